"""Interop cases of the cryptographic layer: ``commitment.json``, ``vrf.json``, ``tree-head.json``.

Each handler recomputes every value the vector records from the vector's
inputs, checks the recorded signatures and proofs with the verifiers of
:mod:`ckv.cipher_suites`, :mod:`ckv.commitment` and :mod:`ckv.tree_head`, and
for a case marked ``{"error": true}`` requires the verifier to reject it.

``tree-head.json`` records valid signatures only. Its handler also derives
must-reject checks from each case: the recorded signature with one bit
flipped, and the signature checked under the key of the wrong role for the
deployment mode (the Service Operator's leaf key under thirdPartyManagement,
the auditor's key for the log's tree head and the log's key for the
auditor's).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ckv import wire
from ckv.cipher_suites import get_suite, vrf_input
from ckv.commitment import compute_commitment, encode_commitment_value, verify_commitment
from ckv.errors import CKVError, VerificationError
from ckv.interop import Case, CaseOutcome, FileMeta, handler
from ckv.tree_head import (
    auditor_tree_head_tbs,
    tree_head_tbs,
    verify_full_tree_head,
    verify_tree_head,
)
from ckv.wire.messages import (
    AuditorTreeHead,
    CipherSuite,
    CommitmentValue,
    Configuration,
    DeploymentMode,
    FullTreeHead,
    FullTreeHeadType,
    TreeHead,
    UpdateSuffix,
    UpdateValue,
)

__all__ = ["run_commitment_case", "run_tree_head_case", "run_vrf_case"]


def _hex(value: Any) -> bytes:
    return bytes.fromhex(str(value))


def _suite(meta: FileMeta) -> CipherSuite:
    return CipherSuite(int(meta.get("cipher_suite", CipherSuite.KT_128_SHA256_Ed25519)))


def _mismatch(what: str, expected: bytes, computed: bytes) -> CaseOutcome:
    return CaseOutcome.failed(f"{what}: expected {expected.hex()}, computed {computed.hex()}")


def _rejects(check: Callable[[], object]) -> VerificationError | None:
    """The VerificationError ``check`` raises, or None if it accepts."""
    try:
        check()
    except VerificationError as exc:
        return exc
    return None


# -- commitment.json --------------------------------------------------------------------


@handler("commitment")
def run_commitment_case(meta: FileMeta, case: Case) -> CaseOutcome:
    """Recompute ``CommitmentValue`` and the HMAC; or require a wrong opening to fail."""
    suite = _suite(meta)
    inp, expect = case["input"], case["expect"]
    # The vectors' UpdateValue has no suffix: any mode other than thirdPartyManagement.
    mode = DeploymentMode.contactMonitoring
    value = CommitmentValue(
        opening=_hex(inp["opening"]),
        label=_hex(inp["label"]),
        version=int(inp["version"]),
        update=UpdateValue(value=_hex(inp["update"]["value"]), suffix=UpdateSuffix()),
    )
    if expect.get("error"):
        error = _rejects(
            lambda: verify_commitment(suite, _hex(inp["commitment"]), value, mode=mode)
        )
        if error is None:
            return CaseOutcome.failed("a wrong opening verified")
        return CaseOutcome.passed(error.diagnostics())
    encoded = encode_commitment_value(suite, value, mode=mode)
    if encoded != _hex(expect["commitment_value"]):
        return _mismatch("CommitmentValue", _hex(expect["commitment_value"]), encoded)
    commitment = compute_commitment(suite, value, mode=mode)
    if commitment != _hex(expect["commitment"]):
        return _mismatch("commitment", _hex(expect["commitment"]), commitment)
    try:
        verify_commitment(suite, commitment, value, mode=mode)
    except CKVError as exc:
        return CaseOutcome.failed(exc.diagnostics())
    return CaseOutcome.passed()


# -- vrf.json ---------------------------------------------------------------------------


@handler("vrf")
def run_vrf_case(meta: FileMeta, case: Case) -> CaseOutcome:
    """Prove and verify the VRF over the ``VrfInput`` encoding; or reject a foreign proof."""
    suite = get_suite(_suite(meta))
    inp, expect = case["input"], case["expect"]
    label, version = _hex(inp["label"]), int(inp["version"])
    public_key, secret_key = _hex(inp["public_key"]), _hex(inp["private_key"])
    if suite.vrf_public_key(secret_key) != public_key:
        return _mismatch("VRF public key", public_key, suite.vrf_public_key(secret_key))
    if expect.get("error"):
        error = _rejects(lambda: suite.vrf_verify(public_key, label, version, _hex(inp["proof"])))
        if error is None:
            return CaseOutcome.failed("a proof for another label-version pair verified")
        return CaseOutcome.passed(error.diagnostics())
    alpha = vrf_input(label, version)
    if alpha != _hex(expect["vrf_input"]):
        return _mismatch("VrfInput", _hex(expect["vrf_input"]), alpha)
    result = suite.vrf_prove(secret_key, label, version)
    if result.proof != _hex(expect["proof"]):
        return _mismatch("proof", _hex(expect["proof"]), result.proof)
    if result.output != _hex(expect["output"]):
        return _mismatch("output", _hex(expect["output"]), result.output)
    try:
        verified = suite.vrf_verify(public_key, label, version, _hex(expect["proof"]))
    except CKVError as exc:
        return CaseOutcome.failed(exc.diagnostics())
    if verified != result.output:
        return _mismatch("verified output", result.output, verified)
    return CaseOutcome.passed()


# -- tree-head.json ---------------------------------------------------------------------


def _configuration(suite: CipherSuite, inp: Mapping[str, Any]) -> Configuration:
    mode = DeploymentMode(int(inp["mode"]))
    managed = mode is DeploymentMode.thirdPartyManagement
    audited = mode is DeploymentMode.thirdPartyAuditing
    lifetime = inp.get("maximum_lifetime")
    return Configuration(
        ciphersuite=suite,
        mode=mode,
        signature_public_key=_hex(inp["signature_public_key"]),
        vrf_public_key=_hex(inp["vrf_public_key"]),
        leaf_public_key=_hex(inp["leaf_public_key"]) if managed else None,
        max_auditor_lag=int(inp["max_auditor_lag"]) if audited else None,
        auditor_start_pos=int(inp["auditor_start_pos"]) if audited else None,
        auditor_public_key=_hex(inp["auditor_public_key"]) if audited else None,
        max_ahead=int(inp["max_ahead"]),
        max_behind=int(inp["max_behind"]),
        reasonable_monitoring_window=int(inp["reasonable_monitoring_window"]),
        maximum_lifetime=None if lifetime is None else int(lifetime),
    )


def _flip_bit(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8 % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


def _tree_head_must_rejects(
    config: Configuration,
    tree_head: TreeHead,
    root: bytes,
    auditor: AuditorTreeHead | None,
) -> str | None:
    """The derived must-reject checks; the name of the first one that was accepted."""
    suite = get_suite(config.ciphersuite)
    tbs = tree_head_tbs(config, tree_head.tree_size, root)
    checks: list[tuple[str, Callable[[], object]]] = [
        (
            "tree head signature with a bit flipped",
            lambda: verify_tree_head(
                config,
                TreeHead(
                    tree_size=tree_head.tree_size, signature=_flip_bit(tree_head.signature, 77)
                ),
                root,
            ),
        ),
        ("tree head over another root", lambda: verify_tree_head(config, tree_head, bytes(32))),
        (
            "tree head over another size",
            lambda: verify_tree_head(
                config,
                TreeHead(tree_size=tree_head.tree_size + 1, signature=tree_head.signature),
                root,
            ),
        ),
    ]
    if config.leaf_public_key is not None:
        leaf = config.leaf_public_key
        checks.append(
            (
                "tree head under the Service Operator's leaf key",
                lambda: suite.verify(leaf, tbs, tree_head.signature),
            )
        )
    if auditor is not None and config.auditor_public_key is not None:
        auditor_key = config.auditor_public_key
        atbs = auditor_tree_head_tbs(config, auditor.timestamp, auditor.tree_size, root)
        checks += [
            (
                "tree head under the auditor's key",
                lambda: suite.verify(auditor_key, tbs, tree_head.signature),
            ),
            (
                "auditor tree head under the log's key",
                lambda: suite.verify(config.signature_public_key, atbs, auditor.signature),
            ),
            (
                "auditor tree head with a bit flipped",
                lambda: suite.verify(auditor_key, atbs, _flip_bit(auditor.signature, 300)),
            ),
        ]
    for name, check in checks:
        if _rejects(check) is None:
            return name
    return None


@handler("tree-head")
def run_tree_head_case(meta: FileMeta, case: Case) -> CaseOutcome:
    """Rebuild every signed structure, verify the signatures, and reject their mutations."""
    suite = _suite(meta)
    inp, expect = case["input"], case["expect"]
    config = _configuration(suite, inp)
    root, tree_size = _hex(inp["root"]), int(inp["tree_size"])
    checks = 0

    def same(what: str, computed: bytes) -> CaseOutcome | None:
        nonlocal checks
        checks += 1
        expected = _hex(expect[what])
        return None if computed == expected else _mismatch(what, expected, computed)

    encode = wire.codec_for(suite).encode
    tree_head = TreeHead(tree_size=tree_size, signature=_hex(expect["signature"]))
    auditor: AuditorTreeHead | None = None
    outcomes = [
        same("configuration", encode(config)),
        same("tree_head_tbs", tree_head_tbs(config, tree_size, root)),
        same("tree_head", encode(tree_head)),
        same("full_tree_head_same", encode(FullTreeHead(head_type=FullTreeHeadType.same))),
    ]
    if config.mode is DeploymentMode.thirdPartyAuditing:
        # The auditor's signature cannot be recomputed (no private key); it is verified
        # below. Its timestamp and size are the case's inputs.
        timestamp = int(inp["auditor_timestamp"])
        recorded = wire.decode(AuditorTreeHead, _hex(expect["auditor_tree_head"]), suite=suite)
        auditor = AuditorTreeHead(
            timestamp=timestamp, tree_size=tree_size, signature=recorded.signature
        )
        outcomes += [
            same(
                "auditor_tree_head_tbs", auditor_tree_head_tbs(config, timestamp, tree_size, root)
            ),
            same("auditor_tree_head", encode(auditor)),
        ]
    else:
        timestamp = 1_700_000_000_000
    full = FullTreeHead(
        head_type=FullTreeHeadType.updated, tree_head=tree_head, auditor_tree_head=auditor
    )
    outcomes.append(same("full_tree_head_updated", encode(full, mode=config.mode)))
    for outcome in outcomes:
        if outcome is not None:
            return outcome
    try:
        verified = verify_full_tree_head(
            config,
            wire.decode(
                FullTreeHead, _hex(expect["full_tree_head_updated"]), suite=suite, mode=config.mode
            ),
            advertised_size=None,
            rightmost_timestamp=timestamp,
            now_ms=timestamp,
            root=root,
            auditor_root=root,
            previous_auditor_tree_size=None,
        )
    except CKVError as exc:
        return CaseOutcome.failed(exc.diagnostics())
    if verified.tree_size != tree_size:
        return CaseOutcome.failed(f"verified tree size {verified.tree_size}, not {tree_size}")
    accepted = _tree_head_must_rejects(config, tree_head, root, auditor)
    if accepted is not None:
        return CaseOutcome.failed(f"must-reject check accepted: {accepted}")
    return CaseOutcome.passed(f"{checks} encodings and every signature agree")
