"""Formal models: lint the Tamarin models, run the prover, compare with the pins.

* :mod:`ckv.prove.spthy` parses ``models/tamarin/*.spthy`` with CKV's own grammar
  (``spec/grammar/spthy.lark``) and lints them;
* :mod:`ckv.prove.pins` reads and checks ``models/tamarin/expected.toml``;
* :mod:`ckv.prove.runner` runs tamarin-prover one lemma per process;
* :mod:`ckv.prove.output` parses the prover's summary;
* :mod:`ckv.prove.report` writes the JSON and Markdown reports.

The command is ``ckv prove`` (:mod:`ckv.cli.prove`); the chapter is
``spec/formal-analysis.md``.
"""
