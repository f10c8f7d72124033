"""Registry tables generated from the reference implementation.

``{alert-registry}`` renders :data:`ckv.alerts.REGISTRY` as a table: the spec's
registry of alert codes is the one the code raises, so the two cannot drift.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


def table(
    headers: list[str],
    widths: list[int],
    rows: list[list[nodes.Node]],
    *,
    classes: tuple[str, ...] = ("ckv-registry",),
) -> nodes.table:
    """A docutils table: a header row, then one row per list of cell contents."""
    out = nodes.table(classes=list(classes))
    group = nodes.tgroup(cols=len(headers))
    out += group
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
    return out


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
        return [table(headers, [4, 18, 12, 8, 10, 12, 36], rows)]


class EnumRegistryDirective(SphinxDirective):
    """``{enum-registry} Name``: the values of a wire enum, read from ``spec/wire``."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        from ckv.wire.schema import load_schema  # noqa: PLC0415 - imported when built

        name = self.arguments[0]
        decl = load_schema().enums.get(name)
        if decl is None:
            msg = f"enum-registry: no enum {name!r} in spec/wire"
            raise self.error(msg)
        rows: list[list[nodes.Node]] = [
            [nodes.paragraph(text=str(value)), nodes.paragraph("", "", nodes.literal(text=label))]
            for label, value in decl.values
        ]
        used = max(value for _, value in decl.values)
        rows.append(
            [
                nodes.paragraph(text=f"{used + 1}-{decl.maximum}"),
                nodes.paragraph(text="unassigned"),
            ]
        )
        source = decl.loc.source.removeprefix("spec/") if decl.loc else "spec/wire"
        caption = nodes.paragraph(
            "",
            "",
            nodes.strong(text=name),
            nodes.Text(f" ({8 * decl.width}-bit, defined in "),
            nodes.literal(text=source),
            nodes.Text(")"),
        )
        return [caption, table(["Value", "Name"], [12, 40], rows)]


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the registry directives."""
    app.add_directive("alert-registry", AlertRegistryDirective)
    app.add_directive("enum-registry", EnumRegistryDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
