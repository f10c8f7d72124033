"""Sphinx configuration for the CKV specification.

The sources are in ``spec/`` (normative text, grammar, wire definitions); this
directory holds only the build machinery. Build with::

    sphinx-build -W --keep-going -b html -c docs spec build/spec
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

from ckv import __version__  # noqa: E402

project = "CKV: Contact Key Verification"
author = "The CKV authors"
copyright = "2026, the CKV authors"  # noqa: A001
version = release = __version__

extensions = ["myst_parser", "ckvdocs", "ckvdiagrams", "ckvregistry", "ckvstates", "ckvtrace"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_includes/**"]
templates_path: list[str] = []

myst_enable_extensions = ["colon_fence", "deflist", "attrs_inline"]
myst_heading_anchors = 3

numfig = True
nitpicky = True
highlight_language = "none"

html_theme = "furo"
html_title = "CKV specification"
html_static_path = [str(HERE / "_static")]
html_css_files = ["ckv.css", "ckv-diagrams.css"]
html_permalinks_icon = "#"
html_show_sourcelink = False
