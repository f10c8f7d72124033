#!/usr/bin/env python3
"""Conformance adapter of the CKV reference implementation (see conformance/PROTOCOL.md).

Run by the harness as ``python conformance/adapters/reference/adapter.py``; needs
the ``ckv`` package importable (the project's .venv).
"""

import sys

from ckv.conformance.reference_adapter import main

if __name__ == "__main__":
    sys.exit(main())
