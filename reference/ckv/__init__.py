"""CKV: the reference implementation of Contact Key Verification."""

__version__ = "0.1.0"
