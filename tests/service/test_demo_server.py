"""``ckv demo --server URL``: the story against a live ``--allow-adversary`` server."""

from __future__ import annotations

from pathlib import Path

import pytest
from service_helpers import Server, make_keys, write_keys

from ckv.demo import build_world, run_story
from ckv.service.adversary import remote_world


@pytest.mark.req("API-010")
def test_demo_story_against_a_live_server(tmp_path: Path) -> None:
    keys = write_keys(tmp_path / "keys.json", make_keys())
    server = Server(["--keys", str(keys), "--allow-adversary", "--rate", "0"])
    try:
        lines: list[str] = []
        story = run_story(remote_world(server.url), say=lines.append)
    finally:
        server.stop()
    expected = run_story(build_world()).alerts()
    assert story.alerts() == expected
    assert any("REFUTED" not in line for line in lines)
    assert all("REFUTED" not in e.checked for e in story.events if e.alert is not None)
