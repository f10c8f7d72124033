"""Registry tables generated from the reference implementation.

``{alert-registry}`` renders :data:`ckv.alerts.REGISTRY` as a table: the spec's
registry of alert codes is the one the code raises, so the two cannot drift.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


def _table(headers: list[str], widths: list[int], rows: list[list[nodes.Node]]) -> nodes.table:
    table = nodes.table(classes=["ckv-registry"])
    group = nodes.tgroup(cols=len(headers))
    table += group
    for width in widths:
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    row = nodes.row()
    for title in headers:
        row += nodes.entry("", nodes.paragraph(text=title))
    head += row
    body = nodes.tbody()
    group += body
    for cells in rows:
        row = nodes.row()
        for cell in cells:
            row += nodes.entry("", cell)
        body += row
    return table


class AlertRegistryDirective(SphinxDirective):
    """``{alert-registry}``: every alert code with its meaning, from ``ckv.alerts``."""

    def run(self) -> list[nodes.Node]:
        from ckv.alerts import REGISTRY  # noqa: PLC0415 - imported when the page is built

        rows: list[list[nodes.Node]] = []
        for code, info in sorted(REGISTRY.items(), key=lambda item: int(item[0])):
            rows.append(
                [
                    nodes.paragraph(text=str(int(code))),
                    nodes.paragraph("", "", nodes.literal(text=code.name)),
                    nodes.paragraph(text=info.category.name.lower().replace("_", " ")),
                    nodes.paragraph(text=info.raised_by.name.lower()),
                    nodes.paragraph("", "", nodes.literal(text=info.requirement)),
                    nodes.paragraph(
                        text=", ".join(kind.name for kind in info.evidence)
                        + ("" if info.transferable else " (partial)")
                    ),
                    nodes.paragraph(text=info.summary),
                ]
            )
        headers = ["Code", "Name", "Category", "Raised by", "Check", "Evidence", "Meaning"]
        return [_table(headers, [4, 18, 12, 8, 10, 12, 36], rows)]


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the registry directives."""
    app.add_directive("alert-registry", AlertRegistryDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
