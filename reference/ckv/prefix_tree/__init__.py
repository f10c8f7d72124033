"""The KEYTRANS prefix tree (§3.3, §11.9, §12.2) and its §15.2 before/after evaluation.

- :class:`PrefixTree`: the persistent tree a log holds; ``prove`` builds a batch
  :class:`~ckv.wire.messages.PrefixProof`.
- :func:`evaluate_prefix_proof` / :func:`verify_prefix_proof`: what a user does
  with a ``PrefixProof``.
- :func:`evaluate_before_after`: what an auditor does with an ``AuditorUpdate``'s
  proof and leaves.

Normative description: spec/kt/prefix-tree.md (requirement IDs ``PREFIX-nnn``).
"""

from ckv.prefix_tree.before_after import BeforeAfter, UncoveredSibling, evaluate_before_after
from ckv.prefix_tree.hashing import (
    HashFunction,
    digest_size,
    key_bit,
    leaf_value,
    parent_value,
    sha256,
    shared_prefix_bits,
)
from ckv.prefix_tree.tree import MAX_DEPTH, MAX_RESULTS, PrefixTree
from ckv.prefix_tree.verify import evaluate_prefix_proof, reconstruct, verify_prefix_proof

__all__ = [
    "MAX_DEPTH",
    "MAX_RESULTS",
    "BeforeAfter",
    "HashFunction",
    "PrefixTree",
    "UncoveredSibling",
    "digest_size",
    "evaluate_before_after",
    "evaluate_prefix_proof",
    "key_bit",
    "leaf_value",
    "parent_value",
    "reconstruct",
    "sha256",
    "shared_prefix_bits",
    "verify_prefix_proof",
]
