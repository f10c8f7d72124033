"""Helpers of the directory service tests (keys, server processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from ckv.demo import SeededRandom, demo_configuration
from ckv.transparency_log import LogKeys

PYTHON = sys.executable


def make_keys(seed: bytes = b"service tests") -> LogKeys:
    random = SeededRandom(seed)
    log_key, vrf_key = random(32), random(32)
    return LogKeys(demo_configuration(log_key, vrf_key), log_key, vrf_key)


class Server:
    """A ``ckv directory serve`` process."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self._err = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        code = "import sys; from ckv.cli.directory import main; sys.exit(main(sys.argv[1:]))"
        self.proc = subprocess.Popen(
            [PYTHON, "-c", code, "directory", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=self._err,
            text=True,
            env={**os.environ, **(env or {})},
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("listening on "):
            self.proc.kill()
            self.proc.wait()
            self._err.seek(0)
            err = self._err.read().decode(errors="replace")
            self._close()
            raise RuntimeError(f"server did not start: {line!r} {err[-2000:]}")
        self.url = line.removeprefix("listening on ").strip()

    def _close(self) -> None:
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._err.close()

    def stderr(self) -> str:
        self._err.seek(0)
        return self._err.read().decode(errors="replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        self._close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self._close()


def write_keys(path: Path, keys: LogKeys) -> Path:
    path.write_text(
        json.dumps(
            {
                "suite": keys.config.ciphersuite.name,
                "signature_private_key": keys.signature_private_key.hex(),
                "vrf_private_key": keys.vrf_private_key.hex(),
            }
        )
    )
    return path


def fresh_postgres(url: str) -> str:
    """A new empty database on the server of ``url``; returns its URL."""
    import psycopg

    name = f"ckv_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return url.rsplit("/", 1)[0] + "/" + name
