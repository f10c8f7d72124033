"""Interop cases that are pure encodings: ``requests.json``."""

from __future__ import annotations

from ckv.errors import CKVError
from ckv.interop import Case, CaseOutcome, FileMeta, handler
from ckv.wire.codec import codec_for
from ckv.wire.messages import CipherSuite

#: ``input.kind`` of requests.json -> the structure it encodes.
REQUEST_KINDS = {
    "search-request": "SearchRequest",
    "binary-ladder-step": "BinaryLadderStep",
    "monitor-map-entry": "MonitorMapEntry",
    "contact-monitor-request": "ContactMonitorRequest",
    "owner-init-request": "OwnerInitRequest",
    "owner-monitor-request": "OwnerMonitorRequest",
    "label-value": "LabelValue",
    "update-info": "UpdateInfo",
    "update-request": "UpdateRequest",
    "update-tbs": "UpdateTBS",
}


@handler("requests")
def run_request_case(meta: FileMeta, case: Case) -> CaseOutcome:
    """Decode the recorded encoding as its structure and re-encode it byte-identically."""
    inp = case["input"]
    struct = REQUEST_KINDS.get(inp["kind"])
    if struct is None:
        return CaseOutcome.failed(f"unknown kind {inp['kind']!r}")
    codec = codec_for(CipherSuite(meta.get("cipher_suite", 2)))
    encoded = bytes.fromhex(case["expect"]["encoding"])
    mode = inp.get("mode", 1)
    try:
        value: object = codec.decode(struct, encoded, mode=mode)
        again = codec.encode(value, mode=mode)
    except CKVError as exc:
        return CaseOutcome.failed(exc.diagnostics())
    if again != encoded:
        return CaseOutcome.failed(f"re-encoding differs: {again.hex()}")
    return CaseOutcome.passed()
