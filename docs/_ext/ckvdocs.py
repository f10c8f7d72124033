"""Sphinx extension for the CKV specification.

* ``{req}`ID``` marks the normative statement it starts with a requirement ID.
  Every paragraph or list item that uses a BCP 14 key word of obligation
  (MUST, MUST NOT, SHALL, SHALL NOT, REQUIRED, SHOULD, SHOULD NOT, RECOMMENDED,
  NOT RECOMMENDED) must carry one, or the build warns (and ``-W`` fails it).
  The requirements are written to ``requirements.json`` in the output.
* ``{tls-struct} Name`` shows a definition exactly as written in
  ``spec/wire/*.tls``; ``{tls-file} name.tls`` shows a whole file. Listings are
  never pasted into the prose.
* ``{bcp14}`` emits the BCP 14 boilerplate (exempt from the check above).
* A Pygments lexer, ``tls``, for CKV-PL.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, Text
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective, SphinxRole

from ckv.wire.schema import load_schema

if TYPE_CHECKING:
    from sphinx.application import Sphinx

logger = logging.getLogger(__name__)

REQ_ID = re.compile(r"^[A-Z][A-Z0-9]*-[0-9]{3}$")
OBLIGATION = re.compile(
    r"\b(MUST NOT|MUST|SHALL NOT|SHALL|REQUIRED|SHOULD NOT|SHOULD|NOT RECOMMENDED|RECOMMENDED)\b"
)


class TlsLexer(RegexLexer):
    """CKV-PL, the TLS presentation-language subset of ``spec/grammar/tlspl.lark``."""

    name = "CKV-PL"
    aliases: ClassVar[list[str]] = ["tls", "ckv-pl"]
    filenames: ClassVar[list[str]] = ["*.tls"]
    tokens: ClassVar[dict[str, Any]] = {
        "root": [
            (r"\s+", Text),
            (r"//[^\n]*", Comment.Single),
            (r"/\*(.|\n)*?\*/", Comment.Multiline),
            (words(("struct", "enum", "select", "case", "optional"), suffix=r"\b"), Keyword),
            (words(("uint8", "uint16", "uint32", "uint64", "opaque"), suffix=r"\b"), Keyword.Type),
            (r"(\})(\s*)([A-Za-z_]\w*)", bygroups(Punctuation, Text, Name.Class)),
            (r"0x[0-9A-Fa-f]+|\d+", Number),
            (r"[A-Za-z_]\w*", Name),
            (r"\.\.|[\^\-]", Operator),
            (r"[{}()\[\]<>;:,.]", Punctuation),
        ]
    }


class req_node(nodes.inline):  # noqa: N801 - docutils node naming
    """A requirement ID in the text."""


class RequirementRole(SphinxRole):
    """``{req}`KT-017```: the requirement ID of the statement it introduces."""

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        rid = self.text.strip()
        if not REQ_ID.match(rid):
            logger.warning(
                "malformed requirement ID %r (want e.g. WIRE-004)",
                rid,
                location=self.get_location(),
            )
        anchor = f"req-{rid}"
        node = req_node("", "", classes=["ckv-req"], ids=[anchor])
        node += nodes.strong(rid, rid)
        domain = self.env.domaindata.setdefault("ckv", {"requirements": {}})
        if rid in domain["requirements"] and domain["requirements"][rid]["doc"] != self.env.docname:
            logger.warning(
                "requirement %s is defined twice (also in %s)",
                rid,
                domain["requirements"][rid]["doc"],
                location=self.get_location(),
            )
        domain["requirements"][rid] = {
            "doc": self.env.docname,
            "anchor": anchor,
            "text": "",
            "level": "",
        }
        return [node], []


class Bcp14Directive(SphinxDirective):
    """The BCP 14 boilerplate paragraph."""

    def run(self) -> list[nodes.Node]:
        text = (
            "The key words \u201cMUST\u201d, \u201cMUST NOT\u201d, \u201cREQUIRED\u201d, "
            "\u201cSHALL\u201d, \u201cSHALL NOT\u201d, \u201cSHOULD\u201d, "
            "\u201cSHOULD NOT\u201d, \u201cRECOMMENDED\u201d, \u201cNOT RECOMMENDED\u201d, "
            "\u201cMAY\u201d, and \u201cOPTIONAL\u201d in this document are to be interpreted "
            "as described in BCP 14 (RFC 2119, RFC 8174) when, and only when, they appear in "
            "all capitals, as shown here."
        )
        para = nodes.paragraph(text, text, classes=["bcp14-boilerplate"])
        return [para]


def _schema_source(name: str) -> tuple[str, str] | None:
    return load_schema().sources.get(name)


class TlsStructDirective(SphinxDirective):
    """Show one or more definitions from ``spec/wire`` exactly as written there."""

    required_arguments = 1
    final_argument_whitespace = True
    option_spec: ClassVar[dict[str, Any]] = {"caption": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        names = self.arguments[0].split()
        texts: list[str] = []
        files: list[str] = []
        for name in names:
            found = _schema_source(name)
            if found is None:
                logger.warning(
                    "tls-struct: %r is not defined in spec/wire", name, location=self.get_location()
                )
                continue
            source, text = found
            texts.append(text)
            listed = self.env.domaindata.setdefault("ckv", {"requirements": {}})
            listed.setdefault("listed", {})[name] = self.env.docname
            if source not in files:
                files.append(source)
            self.env.note_dependency(str(Path(self.env.srcdir) / source.removeprefix("spec/")))
        code = "\n\n".join(texts)
        block = nodes.literal_block(code, code, language="tls", classes=["ckv-tls"])
        caption = self.options.get("caption") or f"From {', '.join(files)}"
        container = nodes.container("", literal_block=True, classes=["literal-block-wrapper"])
        container += nodes.caption(caption, caption)
        container += block
        return [container]


class TlsFileDirective(SphinxDirective):
    """Show a whole ``spec/wire/*.tls`` file."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        path = Path(self.env.srcdir) / "wire" / self.arguments[0]
        if not path.is_file():
            logger.warning("tls-file: %s not found", path, location=self.get_location())
            return []
        self.env.note_dependency(str(path))
        code = path.read_text(encoding="utf-8")
        block = nodes.literal_block(code, code, language="tls", classes=["ckv-tls"])
        container = nodes.container("", literal_block=True, classes=["literal-block-wrapper"])
        caption = f"spec/wire/{self.arguments[0]}"
        container += nodes.caption(caption, caption)
        container += block
        return [container]


def _check_normative(app: Sphinx, doctree: nodes.document) -> None:
    """Warn about any obligation key word without a requirement ID; record texts."""
    domain = app.env.domaindata.setdefault("ckv", {"requirements": {}})
    for block in doctree.findall(nodes.literal_block):
        if block.get("language") == "tls" and "ckv-tls" not in block.get("classes", []):
            logger.warning(
                "hand-written `tls` listing: use {tls-struct} so that the listing "
                "comes from spec/wire",
                location=block,
            )
    for node in doctree.findall(nodes.paragraph):
        if "bcp14-boilerplate" in node.get("classes", []):
            continue
        text = node.astext()
        reqs = list(node.findall(req_node))
        keywords = OBLIGATION.findall(text)
        if keywords and not reqs:
            logger.warning(
                "normative statement without a requirement ID: %r", text[:100], location=node
            )
        for r in reqs:
            rid = r["ids"][0].removeprefix("req-")
            entry = domain["requirements"].get(rid)
            if entry is not None:
                entry["text"] = text
                entry["level"] = keywords[0] if keywords else "informative"
                if not keywords:
                    logger.warning("requirement %s has no BCP 14 key word", rid, location=node)


def _visit_req(self: Any, node: req_node) -> None:
    self.body.append(self.starttag(node, "span", "", CLASS="ckv-req"))
    self.body.append(f'<a class="reference internal" href="#{node["ids"][0]}">')


def _depart_req(self: Any, node: req_node) -> None:
    del node
    self.body.append("</a></span>")


def _check_listed(app: Sphinx, env: Any) -> None:
    """Every declaration of spec/wire appears in some listing of the spec."""
    if not app.config.ckv_check_listings:
        return
    listed = env.domaindata.get("ckv", {}).get("listed", {})
    schema = load_schema()
    for name in [*schema.structs, *schema.enums, *schema.aliases]:
        if name not in listed:
            logger.warning(
                "%s (%s) is not listed anywhere in the spec; add it to a {tls-struct} directive",
                name,
                schema.sources[name][0],
            )


def _parsers(parser: argparse.ArgumentParser, path: list[str]) -> list[tuple[list[str], Any]]:
    out: list[tuple[list[str], Any]] = [(path, parser)]
    for action in parser._actions:  # argparse keeps subparsers here
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out.extend(_parsers(sub, [*path, name]))
    return out


class CliDirective(SphinxDirective):
    """``{ckv-cli}``: the help of every ``ckv`` command, from the argument parser itself."""

    def run(self) -> list[nodes.Node]:
        from ckv.cli import build_parser  # noqa: PLC0415 - imported when the page is built

        os.environ["COLUMNS"] = "88"  # argparse wraps help text to the terminal width
        result: list[nodes.Node] = []
        for path, parser in _parsers(build_parser(), ["ckv"]):
            title = " ".join(path)
            section = nodes.section(ids=[nodes.make_id("cli-" + title)])
            section += nodes.title(text=title)
            text = parser.format_help()
            section += nodes.literal_block(text, text)
            result.append(section)
        return result


def _write_requirements(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    from ckv.conformance.coverage import collect  # noqa: PLC0415 - imported when built

    reqs = app.env.domaindata.get("ckv", {}).get("requirements", {})
    cov = collect(Path(app.srcdir).parent)
    out = [
        {
            "id": rid,
            **entry,
            "uri": f"{entry['doc']}.html#{entry['anchor']}",
            "tests": sorted(set(cov.tests.get(rid, []))),
            "vectors": cov.vectors.get(rid, []),
            "lemmas": cov.lemmas.get(rid, []),
            "waiver": cov.waivers.get(rid),
        }
        for rid, entry in sorted(reqs.items())
    ]
    Path(app.outdir, "requirements.json").write_text(
        json.dumps(out, indent=2) + "\n", encoding="utf-8"
    )


def _purge(app: Sphinx, env: Any, docname: str) -> None:
    del app
    data = env.domaindata.get("ckv", {})
    reqs = data.get("requirements", {})
    for rid in [r for r, e in reqs.items() if e["doc"] == docname]:
        del reqs[rid]
    listed = data.get("listed", {})
    for name in [n for n, d in listed.items() if d == docname]:
        del listed[name]


def _merge(app: Sphinx, env: Any, docnames: Any, other: Any) -> None:
    del app, docnames
    mine = env.domaindata.setdefault("ckv", {"requirements": {}})
    theirs = other.domaindata.get("ckv", {})
    mine["requirements"].update(theirs.get("requirements", {}))
    mine.setdefault("listed", {}).update(theirs.get("listed", {}))


def _skip(self: Any, node: nodes.Node) -> None:
    del self, node


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the roles, directives, lexer and checks."""
    app.add_config_value("ckv_check_listings", default=True, rebuild="env", types=[bool])
    app.add_lexer("tls", TlsLexer)
    app.add_node(
        req_node,
        html=(_visit_req, _depart_req),
        latex=(_skip, _skip),
        text=(_skip, _skip),
    )
    app.add_role("req", RequirementRole())
    app.add_directive("bcp14", Bcp14Directive)
    app.add_directive("ckv-cli", CliDirective)
    app.add_directive("tls-struct", TlsStructDirective)
    app.add_directive("tls-file", TlsFileDirective)
    app.connect("doctree-read", _check_normative)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("env-check-consistency", _check_listed)
    app.connect("build-finished", _write_requirements)
    return {
        "version": "1",
        "parallel_read_safe": True,
        "parallel_write_safe": True,
        "env_version": 1,
    }
