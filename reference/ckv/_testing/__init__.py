"""Test support shared by the test suite and the conformance suite (not part of the API).

:mod:`ckv._testing.malicious_log` holds honest and adversarial views of a
:class:`~ckv.transparency_log.TransparencyLog`, each misbehaving in one named way.
"""
