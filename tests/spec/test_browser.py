"""The rendered specification, opened in a real headless browser (Debian's Chromium).

The built site is served on loopback; the index, a chapter and the coverage page
are loaded in Chromium (driven by Playwright, which uses the system browser and
downloads nothing). Each page must load without failed requests or script
errors, every image and inline diagram must have rendered, and every internal
link must lead to a page and anchor that exist. Screenshots are saved under
``build/screenshots/``.

Chromium is installed by ``scripts/system-deps.sh`` (run by ``make test``); where
it is missing the test is skipped with the reason.
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import pytest

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "build" / "screenshots"
PAGES = {
    "index": "index.html",
    "chapter": "ckv/verification.html",
    "coverage": "coverage.html",
}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (scripts/system-deps.sh installs it)"
)


class _Ids(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        del tag
        self.ids.update(value for key, value in attrs if key == "id" and value)


@functools.cache
def _ids(path: Path) -> frozenset[str] | None:
    """The element ids of a built page, or None if there is no such page."""
    if not path.is_file():
        return None
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8"))
    return frozenset(parser.ids)


#: Where each served site's files are (site URL -> build directory).
_ROOTS: dict[str, Path] = {}


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        del args


@pytest.fixture(scope="module")
def site(spec_build: tuple[Path, subprocess.CompletedProcess[str]]) -> Iterator[str]:
    out, proc = spec_build
    assert proc.returncode == 0, proc.stderr
    handler = functools.partial(_Quiet, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    _ROOTS[url] = out
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser(site: str) -> Iterator[object]:
    del site
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield instance
        finally:
            instance.close()


@pytest.mark.req("CONV-001")
@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_renders_with_working_links_and_images(name: str, site: str, browser: object) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    failures: list[str] = []
    page.on("requestfailed", lambda r: failures.append(f"{r.url}: {r.failure}"))
    page.on("pageerror", lambda e: failures.append(f"script error: {e}"))
    response = page.goto(urljoin(site, PAGES[name]), wait_until="load")
    assert response is not None
    assert response.ok, response.status
    assert not failures, failures
    # Every image has loaded and has a size; every inline SVG diagram has a box.
    broken = page.evaluate(
        "() => Array.from(document.images)"
        ".filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
    )
    assert broken == [], broken
    empty_svgs = page.evaluate(
        "() => Array.from(document.querySelectorAll('article svg'))"
        ".filter(s => s.getBoundingClientRect().width < 1).length"
    )
    assert empty_svgs == 0
    # Every internal link leads to an existing page and, if it has one, anchor.
    links = page.evaluate("() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
    internal = sorted({link for link in links if link.startswith(site)})
    assert internal, "no internal links found"
    for link in internal:
        target, fragment = urldefrag(link)
        path = urlparse(target).path.lstrip("/") or "index.html"
        ids = _ids(_ROOTS[site] / path)
        assert ids is not None, f"{PAGES[name]} links to a missing page {path}"
        if fragment:
            assert fragment in ids, f"{PAGES[name]} links to a missing anchor {path}#{fragment}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
    assert (SHOTS / f"{name}.png").stat().st_size > 10_000
    page.close()
