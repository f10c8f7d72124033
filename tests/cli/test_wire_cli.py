"""`ckv wire`: list, decode, encode, codegen; bad input is one line on stderr, exit 1."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ckv.cli import main
from ckv.wire.schema import load_schema

SEARCH = "01000000000000003211616c696365406578616d706c652e636f6d00"
LABEL = "616c696365406578616d706c652e636f6d"


def run(
    capsys: pytest.CaptureFixture[str],
    *argv: str,
    stdin: str | None = None,
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> tuple[int, str, str]:
    if stdin is not None:
        assert monkeypatch is not None
        import io

        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "wire", "list")
    assert code == 0
    assert out.split() == sorted(load_schema().structs)


def test_list_long(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "wire", "list", "--long")
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("SearchResponse "))
    assert "spec/wire/user-operations.tls" in line
    assert "Configuration.mode, SearchRequest.version" in line


def test_decode(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "wire", "decode", "SearchRequest", SEARCH)
    assert (code, err) == (0, "")
    assert json.loads(out) == {"last": 50, "label": LABEL, "version": None}


def test_decode_enums_by_name_and_mode(capsys: pytest.CaptureFixture[str]) -> None:
    data = "02" + "0000000000000001" + "0000" + "0000018bcfe56800" + "0000000000000001" + "0000"
    code, out, _ = run(
        capsys, "wire", "decode", "--mode", "thirdPartyAuditing", "FullTreeHead", data
    )
    assert code == 0
    obj = json.loads(out)
    assert obj["head_type"] == "updated"
    assert obj["auditor_tree_head"]["timestamp"] == 1700000000000


def test_decode_from_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(
        capsys,
        "wire",
        "decode",
        "SearchRequest",
        "-",
        stdin=f" {SEARCH}\n",
        monkeypatch=monkeypatch,
    )
    assert code == 0
    assert json.loads(out)["last"] == 50


def test_encode(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    obj = json.dumps({"last": 50, "label": LABEL, "version": None})
    code, out, _ = run(
        capsys, "wire", "encode", "SearchRequest", stdin=obj, monkeypatch=monkeypatch
    )
    assert (code, out.strip()) == (0, SEARCH)


def test_suite_option(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    obj = json.dumps({"proof": "00" * 81, "commitment": None})
    code, out, err = run(
        capsys,
        "wire",
        "encode",
        "BinaryLadderStep",
        "--suite",
        "p256",
        stdin=obj,
        monkeypatch=monkeypatch,
    )
    assert code == 0, err
    assert len(bytes.fromhex(out.strip())) == 82
    code, _, err = run(
        capsys, "wire", "encode", "BinaryLadderStep", stdin=obj, monkeypatch=monkeypatch
    )
    assert code == 1
    assert "BinaryLadderStep.proof: must be exactly 80 bytes, got 81" in err


BAD_DECODES = [
    (["Nope", "00"], "unknown structure 'Nope'"),
    (["searchrequest", "00"], "did you mean SearchRequest?"),
    (["SearchRequest", "0g"], "not hex: character 'g' at position 1"),
    (["SearchRequest", "000"], "odd number of digits"),
    (["SearchRequest", "0200"], "SearchRequest.last (byte 0): presence octet is 2"),
    (["SearchRequest", SEARCH + "00"], "trailing byte"),
    (["SearchRequest", SEARCH[:-4]], "SearchRequest.label"),
    (["FullTreeHead", "02" + "00" * 8 + "0000"], "pass --mode"),
    (["--suite", "rot13", "SearchRequest", SEARCH], "unknown cipher suite 'rot13'"),
    (["--mode", "sideways", "SearchRequest", SEARCH], "not a DeploymentMode"),
    (["--context", "nonsense", "SearchRequest", SEARCH], "expected KEY=VALUE"),
]


@pytest.mark.parametrize(("args", "message"), BAD_DECODES)
def test_bad_decode_input(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, "wire", "decode", *args)
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("ckv: error: ")
    assert message in err


BAD_ENCODES = [
    ("not json", "invalid JSON at line 1 column 1"),
    ('{"last": 50, "label": "zz", "version": null}', "SearchRequest.label: not valid hex"),
    ('{"last": -1, "label": "", "version": null}', "SearchRequest.last: -1 does not fit"),
    ('{"last": 2e3, "label": "", "version": null}', "expected an integer"),
    ('{"last": null, "label": "", "version": 4294967296}', "does not fit in uint32"),
    ('{"last": null, "label": "' + "00" * 256 + '", "version": null}', "length 256 is outside"),
    ('{"last": null, "label": ""}', "missing field 'version'"),
]


@pytest.mark.parametrize(("stdin", "message"), BAD_ENCODES)
def test_bad_encode_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, stdin: str, message: str
) -> None:
    code, out, err = run(
        capsys, "wire", "encode", "SearchRequest", stdin=stdin, monkeypatch=monkeypatch
    )
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert message in err


def test_bad_enum_name_and_wrong_length(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run(
        capsys,
        "wire",
        "encode",
        "FullTreeHead",
        "--mode",
        "contactMonitoring",
        stdin='{"head_type": "sideways"}',
        monkeypatch=monkeypatch,
    )
    assert code == 1
    assert "FullTreeHead.head_type: 'sideways' is not a FullTreeHeadType" in err
    code, _, err = run(
        capsys,
        "wire",
        "encode",
        "LogEntry",
        stdin='{"timestamp": 1, "prefix_tree": "00"}',
        monkeypatch=monkeypatch,
    )
    assert code == 1
    assert "LogEntry.prefix_tree: must be exactly 32 bytes, got 1" in err


def test_codegen_check_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    """ckv/wire/messages.py is exactly what the spec/wire definitions generate."""
    code, out, err = run(capsys, "wire", "codegen", "--check")
    assert code == 0, err
    assert "up to date" in out


def test_real_process_never_prints_a_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ckv", "wire", "decode", "SearchResponse", "02ff"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("ckv: error: SearchResponse")
