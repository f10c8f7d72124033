"""CKV's conformance suite: test vectors, their schemas, the harness and coverage.

- :mod:`ckv.conformance.vectors`: the vector model and the registry of vector
  kinds (generator + schema + reference handler per kind); ``ckv vectors``.
- ``kinds_*`` modules: the kinds, one module per family.
- :mod:`ckv.conformance.protocol`, :mod:`ckv.conformance.harness`,
  :mod:`ckv.conformance.reports`: ``ckv conformance run``.
- :mod:`ckv.conformance.coverage`: ``ckv conformance coverage``.

Normative description: spec/conformance.md (requirement IDs ``CONF-nnn``).
"""
