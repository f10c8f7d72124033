"""``ckv client`` against a live ``ckv directory serve`` process."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from service_helpers import PYTHON, Server, make_keys, write_keys

CODE = "import sys; from ckv.cli.client import main; sys.exit(main(sys.argv[1:]))"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("cli")
    keys = write_keys(tmp / "keys.json", make_keys())
    srv = Server(["--db", str(tmp / "db.sqlite"), "--keys", str(keys)])
    yield srv
    srv.stop()


def ckv_client(state: Path, *args: str, server: str | None = None) -> tuple[int, str, str]:
    argv = ["client", "--state", str(state)]
    if server:
        argv += ["--server", server]
    done = subprocess.run(
        [PYTHON, "-c", CODE, *argv, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.mark.req("API-007")
def test_client_story(server: Server, tmp_path: Path) -> None:
    alice, bob = tmp_path / "alice.state", tmp_path / "bob.state"
    code, out, err = ckv_client(
        alice, "create-account", "--device", "phone", "alice@example.org", server=server.url
    )
    assert code == 0, err
    assert "account" in out
    assert (alice.stat().st_mode & 0o777) == 0o600
    assert ckv_client(alice, "enroll", "--device", "phone", "--new", "laptop")[0] == 0
    code, out, err = ckv_client(alice, "enable-ckv", "--device", "laptop")
    assert code == 0, err
    code, out, err = ckv_client(
        bob, "create-account", "--device", "phone", "bob@example.org", server=server.url
    )
    assert code == 0, err
    code, out, err = ckv_client(bob, "verify", "--device", "phone", "alice@example.org")
    assert code == 0, err
    assert "no alert" in out
    code, out, err = ckv_client(bob, "search", "--device", "phone", "--handle", "alice@example.org")
    assert code == 0, err
    assert "version" in out
    code, out, err = ckv_client(alice, "monitor", "--device", "phone")
    assert code == 0, err
    assert "no alert" in out
    code, out, _ = ckv_client(alice, "devices")
    assert "laptop" in out
    assert "phone" in out


def test_failed_command_leaves_the_state_file(server: Server, tmp_path: Path) -> None:
    state = tmp_path / "s.state"
    assert (
        ckv_client(
            state, "create-account", "--device", "d", "carol@example.org", server=server.url
        )[0]
        == 0
    )
    before = state.read_bytes()
    code, _, err = ckv_client(state, "search", "--device", "d", "--handle", "nobody@example.org")
    assert code == 1
    assert "not_found" in err or "refused" in err
    assert state.read_bytes() == before
    code, _, err = ckv_client(state, "verify", "--device", "nope", "x@example.org")
    assert code == 1
    assert "no device" in err
    bad = tmp_path / "bad.state"
    bad.write_bytes(b"garbage")
    code, _, err = ckv_client(bad, "devices")
    assert code == 1
    assert "not a ckv client state file" in err
