"""Vector kinds of the cipher suites: signatures, VRFs, commitments, tree heads (KEYTRANS §11).

* ``suite.signature.verify`` -- verify a signature of the suite's scheme.
* ``kt.vrf.verify`` -- verify a VRF proof for a label-version pair; output the search key.
* ``kt.commitment.verify`` -- open a commitment to a label-version pair's ``UpdateValue``.
* ``kt.tree-head.verify`` -- verify ``TreeHead.signature`` over ``TreeHeadTBS``.
* ``kt.full-tree-head.verify`` -- the checks of a ``FullTreeHead`` (§11.4): ``same``
  versus ``updated``, growth over the advertised size, the clock bounds, and the
  auditor tree head under ``thirdPartyAuditing``.

Every key is derived from a fixed seed; every expected result and output is
what the reference implementation computes, and each must-reject case is
checked to be rejected when it is generated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ckv import wire
from ckv.cipher_suites import get_suite
from ckv.commitment import encode_commitment_value, verify_commitment
from ckv.conformance._util import SUITE_SHORT, Rng, flip_bit, hexb, suite_named
from ckv.conformance.schemas import HEX
from ckv.conformance.vectors import Note, VectorFile, VectorKind, register
from ckv.errors import UsageError
from ckv.tree_head import (
    sign_auditor_tree_head,
    sign_tree_head,
    tree_head_tbs,
    verify_full_tree_head,
    verify_tree_head,
)
from ckv.wire.messages import (
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

__all__ = ["make_configuration"]

JSON = Any
SUITES = (CipherSuite.KT_128_SHA256_Ed25519, CipherSuite.KT_128_SHA256_P256)
T0 = 1_700_000_000_000


def make_configuration(
    suite: CipherSuite, mode: DeploymentMode, rng: Rng
) -> tuple[Configuration, bytes, bytes | None]:
    """A Configuration with seeded keys; returns it, the log's and the auditor's signing key."""
    s = get_suite(suite)
    log_sk = rng(32)
    vrf_sk = rng(32)
    auditor_sk = rng(32) if mode is DeploymentMode.thirdPartyAuditing else None
    leaf_sk = rng(32) if mode is DeploymentMode.thirdPartyManagement else None
    config = Configuration(
        ciphersuite=suite,
        mode=mode,
        signature_public_key=s.signature_public_key(log_sk),
        vrf_public_key=s.vrf_public_key(vrf_sk),
        leaf_public_key=s.signature_public_key(leaf_sk) if leaf_sk else None,
        max_auditor_lag=3_600_000 if auditor_sk else None,
        auditor_start_pos=2 if auditor_sk else None,
        auditor_public_key=s.signature_public_key(auditor_sk) if auditor_sk else None,
        max_ahead=60_000,
        max_behind=86_400_000,
        reasonable_monitoring_window=86_400_000,
        maximum_lifetime=None,
    )
    return config, log_sk, auditor_sk


def _config_of(request: JSON) -> Configuration:
    data = hexb(request["configuration"], "configuration")
    suite = CipherSuite(int.from_bytes(data[:2], "big")) if len(data) >= 2 else None
    if suite is None or suite not in SUITE_SHORT:
        raise UsageError("configuration: unknown cipher suite")
    config: Configuration = wire.decode(Configuration, data, suite=suite)
    return config


# -- suite.signature.verify -------------------------------------------------------------

SIG_NOTES = {
    "ModifiedSignature": Note("AUTH_BYPASS", "A bit of the signature is flipped (SUITE-005)."),
    "ModifiedMessage": Note("AUTH_BYPASS", "A bit of the signed message is flipped (SUITE-005)."),
    "WrongKey": Note("AUTH_BYPASS", "The signature is checked under another key (SUITE-005)."),
    "SignatureSize": Note("CODEC", "The signature has the wrong length (SUITE-003, SUITE-004)."),
    "KeyFormat": Note(
        "CODEC", "The public key is not in the suite's encoding (SUITE-002, SUITE-004)."
    ),
    "ScalarRange": Note(
        "SIGNATURE_MALLEABILITY",
        "A scalar is out of range: ECDSA r or s is 0 or not below n (SUITE-003); Ed25519 S is "
        "not below L (RFC 8032).",
    ),
    "SignatureMalleability": Note(
        "SIGNATURE_MALLEABILITY",
        "ECDSA (r, n - s): a second valid signature of the same message. CKV does not "
        "require rejecting it, so either result is acceptable.",
    ),
}
_ED25519_L = 2**252 + 27742317777372353535851937790883648493
_P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def handle_signature(request: JSON) -> JSON:
    """Reference handler of ``suite.signature.verify``."""
    suite = get_suite(suite_named(request["cipher_suite"]))
    suite.verify(hexb(request["public_key"]), hexb(request["message"]), hexb(request["signature"]))
    return None


def _signature_file(cs: CipherSuite) -> VectorFile:
    short = SUITE_SHORT[cs]
    suite = get_suite(cs)
    vf = VectorFile(
        path=f"suite/signature.{short}.json",
        kind="suite.signature.verify",
        short=short,
        description=f"Verify signatures of {cs.name} ({suite.signature.name}).",
        parameters={"cipher_suite": cs.name},
    )
    rng = Rng(f"ckv signature vectors {cs.name}")
    sk, other_sk = rng(32), rng(32)
    pk, other_pk = suite.signature_public_key(sk), suite.signature_public_key(other_sk)

    def add(  # noqa: PLR0917 - a row of the vector table
        name: str,
        what: str,
        reqs: Sequence[str],
        result: str,
        key: bytes,
        msg: bytes,
        sig: bytes,
        flags: Sequence[str] = (),
    ) -> None:
        inp = {
            "cipher_suite": cs.name,
            "public_key": key.hex(),
            "message": msg.hex(),
            "signature": sig.hex(),
        }
        vf.add_reference(
            handle_signature,
            name=name,
            description=what,
            requirements=reqs,
            result=result,
            input=inp,
            flags=flags,
        )

    messages = [b"", b"CKV conformance", rng(200)]
    for msg in messages:
        add(
            "valid",
            f"a signature over a {len(msg)}-byte message",
            ["SUITE-005"],
            "valid",
            pk,
            msg,
            suite.sign(sk, msg),
        )
    msg = messages[1]
    sig = suite.sign(sk, msg)
    for bit in (0, 100, 8 * len(sig) - 1):
        add(
            "modified-signature",
            f"signature bit {bit} flipped",
            ["SUITE-005"],
            "invalid",
            pk,
            msg,
            flip_bit(sig, bit),
            ["ModifiedSignature"],
        )
    add(
        "modified-message",
        "message bit 3 flipped",
        ["SUITE-005"],
        "invalid",
        pk,
        flip_bit(msg, 3),
        sig,
        ["ModifiedMessage"],
    )
    add(
        "wrong-key",
        "verified under another key",
        ["SUITE-005"],
        "invalid",
        other_pk,
        msg,
        sig,
        ["WrongKey"],
    )
    size_req = "SUITE-003" if cs is CipherSuite.KT_128_SHA256_P256 else "SUITE-004"
    add(
        "signature-size",
        "signature truncated to 63 bytes",
        [size_req],
        "invalid",
        pk,
        msg,
        sig[:-1],
        ["SignatureSize"],
    )
    add(
        "signature-size",
        "signature extended to 65 bytes",
        [size_req],
        "invalid",
        pk,
        msg,
        sig + b"\x00",
        ["SignatureSize"],
    )
    if cs is CipherSuite.KT_128_SHA256_P256:
        compressed = bytes([2 + (pk[-1] & 1)]) + pk[1:33]
        add(
            "key-format",
            "public key in compressed form",
            ["SUITE-002"],
            "invalid",
            compressed,
            msg,
            sig,
            ["KeyFormat"],
        )
        off_curve = pk[:-1] + bytes([pk[-1] ^ 1])
        add(
            "key-format",
            "public key not on the curve",
            ["SUITE-002"],
            "invalid",
            off_curve,
            msg,
            sig,
            ["KeyFormat"],
        )
        r, s = sig[:32], int.from_bytes(sig[32:], "big")
        add(
            "scalar-range",
            "s = 0",
            ["SUITE-003"],
            "invalid",
            pk,
            msg,
            r + bytes(32),
            ["ScalarRange"],
        )
        add(
            "scalar-range",
            "s = n",
            ["SUITE-003"],
            "invalid",
            pk,
            msg,
            r + _P256_N.to_bytes(32, "big"),
            ["ScalarRange"],
        )
        add(
            "scalar-range",
            "r = 0",
            ["SUITE-003"],
            "invalid",
            pk,
            msg,
            bytes(32) + sig[32:],
            ["ScalarRange"],
        )
        add(
            "scalar-range",
            "r = n",
            ["SUITE-003"],
            "invalid",
            pk,
            msg,
            _P256_N.to_bytes(32, "big") + sig[32:],
            ["ScalarRange"],
        )
        add(
            "key-format",
            "public key 04 followed by zeros (not a point)",
            ["SUITE-002"],
            "invalid",
            b"\x04" + bytes(64),
            msg,
            sig,
            ["KeyFormat"],
        )
        add(
            "malleable",
            "(r, n - s) of a valid signature",
            ["SUITE-005"],
            "acceptable",
            pk,
            msg,
            r + (_P256_N - s).to_bytes(32, "big"),
            ["SignatureMalleability"],
        )
    else:
        # RFC 8032 §5.1.7: S must be below the group order L; S + L verifies the same
        # equation, so accepting it makes signatures malleable.
        s_int = int.from_bytes(sig[32:], "little")
        add(
            "scalar-range",
            "S replaced by S + L",
            ["SUITE-005"],
            "invalid",
            pk,
            msg,
            sig[:32] + (s_int + _ED25519_L).to_bytes(32, "little"),
            ["ScalarRange"],
        )
        add(
            "key-format",
            "public key of 31 bytes",
            ["SUITE-004"],
            "invalid",
            pk[:-1],
            msg,
            sig,
            ["KeyFormat"],
        )
    return vf


# -- kt.vrf.verify ------------------------------------------------------------------------

VRF_NOTES = {
    "ModifiedProof": Note(
        "AUTH_BYPASS", "A bit of the VRF proof is flipped (SUITE-010, SUITE-011)."
    ),
    "WrongInput": Note("AUTH_BYPASS", "The proof is for another label or version (SUITE-011)."),
    "WrongKey": Note("AUTH_BYPASS", "The proof is checked under another VRF key (SUITE-011)."),
    "ProofSize": Note("CODEC", "The proof is not VRF.Np bytes (SUITE-010)."),
    "KeyFormat": Note("CODEC", "The VRF public key has the wrong length (SUITE-008)."),
    "InvalidKey": Note("AUTH_BYPASS", "The VRF public key is not a valid point (SUITE-009)."),
}


def handle_vrf(request: JSON) -> JSON:
    """Reference handler of ``kt.vrf.verify``: the search key (VRF output)."""
    suite = get_suite(suite_named(request["cipher_suite"]))
    label = hexb(request["label"])
    version = int(request["version"])
    out = suite.vrf_verify(hexb(request["public_key"]), label, version, hexb(request["proof"]))
    return {"output": out.hex()}


def _vrf_file(cs: CipherSuite) -> VectorFile:
    short = SUITE_SHORT[cs]
    suite = get_suite(cs)
    vf = VectorFile(
        path=f"kt/vrf.{short}.json",
        kind="kt.vrf.verify",
        short=short,
        description=f"Verify VRF proofs of {cs.name} over VrfInput(label, version) "
        "(KEYTRANS §11.7); "
        "the output is the search key.",
        parameters={"cipher_suite": cs.name},
    )
    rng = Rng(f"ckv vrf vectors {cs.name}")
    sk, other_sk = rng(32), rng(32)
    pk, other_pk = suite.vrf_public_key(sk), suite.vrf_public_key(other_sk)

    def add(  # noqa: PLR0917 - a row of the vector table
        name: str,
        what: str,
        reqs: Sequence[str],
        result: str,
        key: bytes,
        label: bytes,
        version: int,
        proof: bytes,
        flags: Sequence[str] = (),
    ) -> None:
        inp = {
            "cipher_suite": cs.name,
            "public_key": key.hex(),
            "label": label.hex(),
            "version": version,
            "proof": proof.hex(),
        }
        vf.add_reference(
            handle_vrf,
            name=name,
            description=what,
            requirements=reqs,
            result=result,
            input=inp,
            flags=flags,
        )

    pairs = [(b"alice@example.com", 0), (b"bob", 7), (b"", 4294967295), (rng(40), 123456)]
    for label, version in pairs:
        proof = suite.vrf_prove(sk, label, version).proof
        add(
            "valid",
            f"proof for a {len(label)}-byte label, version {version}",
            ["SUITE-006", "SUITE-007"],
            "valid",
            pk,
            label,
            version,
            proof,
        )
    label, version = pairs[0]
    proof = suite.vrf_prove(sk, label, version).proof
    np_ = suite.vrf_np
    for bit in (0, 8 * 20 + 3, 8 * (np_ - 40) + 1, 8 * (np_ - 1)):
        add(
            "modified-proof",
            f"proof bit {bit} flipped",
            ["SUITE-010", "SUITE-011"],
            "invalid",
            pk,
            label,
            version,
            flip_bit(proof, bit),
            ["ModifiedProof"],
        )
    add(
        "wrong-version",
        "proof of version 0 checked for version 1",
        ["SUITE-011"],
        "invalid",
        pk,
        label,
        1,
        proof,
        ["WrongInput"],
    )
    add(
        "wrong-label",
        "proof checked for another label",
        ["SUITE-011"],
        "invalid",
        pk,
        b"mallory@example.com",
        version,
        proof,
        ["WrongInput"],
    )
    add(
        "wrong-key",
        "proof checked under another VRF key",
        ["SUITE-011"],
        "invalid",
        other_pk,
        label,
        version,
        proof,
        ["WrongKey"],
    )
    add(
        "proof-size",
        f"proof truncated to {np_ - 1} bytes",
        ["SUITE-010"],
        "invalid",
        pk,
        label,
        version,
        proof[:-1],
        ["ProofSize"],
    )
    add(
        "proof-size",
        f"proof extended to {np_ + 1} bytes",
        ["SUITE-010"],
        "invalid",
        pk,
        label,
        version,
        proof + b"\x00",
        ["ProofSize"],
    )
    add(
        "key-format",
        "public key one byte short",
        ["SUITE-008"],
        "invalid",
        pk[:-1],
        label,
        version,
        proof,
        ["KeyFormat"],
    )
    if cs is CipherSuite.KT_128_SHA256_Ed25519:
        identity = b"\x01" + bytes(31)
        add(
            "invalid-key",
            "public key is the identity point (small order)",
            ["SUITE-009"],
            "invalid",
            identity,
            label,
            version,
            proof,
            ["InvalidKey"],
        )
    else:
        # x = 1 gives no point of P-256 (1 - 3 + b is not a square modulo p).
        bad = bytes([2]) + (1).to_bytes(32, "big")
        add(
            "invalid-key",
            "compressed public key whose x-coordinate is not on the curve",
            ["SUITE-008"],
            "invalid",
            bad,
            label,
            version,
            proof,
            ["InvalidKey"],
        )
    return vf


# -- kt.commitment.verify ----------------------------------------------------------------

COMMIT_NOTES = {
    "WrongOpening": Note("AUTH_BYPASS", "The opening does not open the commitment (SUITE-015)."),
    "OpeningSize": Note("CODEC", "The opening is not Nc bytes (SUITE-015)."),
    "WrongValue": Note("AUTH_BYPASS", "Label, version or value differ from the committed ones."),
    "ModifiedCommitment": Note("AUTH_BYPASS", "A bit of the commitment is flipped (SUITE-015)."),
}


def handle_commitment(request: JSON) -> JSON:
    """Reference handler of ``kt.commitment.verify``: the encoded ``CommitmentValue``."""
    cs = suite_named(request["cipher_suite"])
    mode = DeploymentMode[str(request["mode"])]
    update = wire.decode(UpdateValue, hexb(request["update"]), suite=cs, mode=mode)
    value = CommitmentValue(
        opening=hexb(request["opening"]),
        label=hexb(request["label"]),
        version=int(request["version"]),
        update=update,
    )
    verify_commitment(cs, hexb(request["commitment"]), value, mode=mode)
    return {"commitment_value": encode_commitment_value(cs, value, mode=mode).hex()}


def _commitment_file(cs: CipherSuite) -> VectorFile:
    from ckv.commitment import compute_commitment  # noqa: PLC0415 - generator only

    short = SUITE_SHORT[cs]
    vf = VectorFile(
        path=f"kt/commitment.{short}.json",
        kind="kt.commitment.verify",
        short=short,
        description=f"Open commitments under {cs.name}: HMAC(Kc, CommitmentValue) "
        "(KEYTRANS §11.6).",
        parameters={"cipher_suite": cs.name},
    )
    rng = Rng(f"ckv commitment vectors {cs.name}")

    def add(  # noqa: PLR0917 - a row of the vector table
        name: str,
        what: str,
        reqs: Sequence[str],
        result: str,
        mode: DeploymentMode,
        commitment: bytes,
        opening: bytes,
        label: bytes,
        version: int,
        update: UpdateValue,
        flags: Sequence[str] = (),
    ) -> None:
        inp = {
            "cipher_suite": cs.name,
            "mode": mode.name,
            "commitment": commitment.hex(),
            "opening": opening.hex(),
            "label": label.hex(),
            "version": version,
            "update": wire.encode(update, suite=cs, mode=mode).hex(),
        }
        vf.add_reference(
            handle_commitment,
            name=name,
            description=what,
            requirements=reqs,
            result=result,
            input=inp,
            flags=flags,
        )

    for mode in (DeploymentMode.contactMonitoring, DeploymentMode.thirdPartyManagement):
        suffix = (
            UpdateSuffix(signature=rng(64))
            if mode is DeploymentMode.thirdPartyManagement
            else UpdateSuffix()
        )
        update = UpdateValue(value=rng(33), suffix=suffix)
        label, version, opening = b"alice@example.com", 3, rng(16)
        value = CommitmentValue(opening=opening, label=label, version=version, update=update)
        c = compute_commitment(cs, value, mode=mode)
        add(
            "valid",
            f"a commitment under {mode.name}",
            ["SUITE-013", "SUITE-015"],
            "valid",
            mode,
            c,
            opening,
            label,
            version,
            update,
        )
        add(
            "wrong-opening",
            "opening with a bit flipped",
            ["SUITE-015"],
            "invalid",
            mode,
            c,
            flip_bit(opening, 5),
            label,
            version,
            update,
            ["WrongOpening"],
        )
        add(
            "opening-size",
            "opening of 15 bytes",
            ["SUITE-015"],
            "invalid",
            mode,
            c,
            opening[:-1],
            label,
            version,
            update,
            ["OpeningSize"],
        )
        add(
            "wrong-label",
            "another label",
            ["SUITE-015"],
            "invalid",
            mode,
            c,
            opening,
            b"mallory@example.com",
            version,
            update,
            ["WrongValue"],
        )
        add(
            "wrong-version",
            "another version",
            ["SUITE-015"],
            "invalid",
            mode,
            c,
            opening,
            label,
            version + 1,
            update,
            ["WrongValue"],
        )
        other = UpdateValue(value=flip_bit(update.value, 0), suffix=suffix)
        add(
            "wrong-value",
            "another UpdateValue",
            ["SUITE-015"],
            "invalid",
            mode,
            c,
            opening,
            label,
            version,
            other,
            ["WrongValue"],
        )
        add(
            "modified-commitment",
            "commitment bit flipped",
            ["SUITE-015"],
            "invalid",
            mode,
            flip_bit(c, 77),
            opening,
            label,
            version,
            update,
            ["ModifiedCommitment"],
        )
    return vf


# -- kt.tree-head.verify ----------------------------------------------------------------

TH_NOTES = {
    "ModifiedSignature": Note("AUTH_BYPASS", "A bit of TreeHead.signature is flipped (SUITE-018)."),
    "WrongRoot": Note("AUTH_BYPASS", "The signature is checked over another root (SUITE-018)."),
    "WrongSize": Note("AUTH_BYPASS", "The tree size is not the signed one (SUITE-018)."),
    "WrongSigner": Note(
        "AUTH_BYPASS", "Signed with a key other than signature_public_key (SUITE-018)."
    ),
    "OtherConfiguration": Note("AUTH_BYPASS", "Signed under another Configuration (SUITE-017)."),
}


def handle_tree_head(request: JSON) -> JSON:
    """Reference handler of ``kt.tree-head.verify``."""
    config = _config_of(request)
    head = wire.decode(TreeHead, hexb(request["tree_head"]), suite=config.ciphersuite)
    verify_tree_head(config, head, hexb(request["root"]))
    return None


def _tree_head_file(cs: CipherSuite) -> VectorFile:
    short = SUITE_SHORT[cs]
    vf = VectorFile(
        path=f"kt/tree-head.{short}.json",
        kind="kt.tree-head.verify",
        short=short,
        description=f"Verify TreeHead signatures over TreeHeadTBS under {cs.name} "
        "(KEYTRANS §11.2).",
        parameters={"cipher_suite": cs.name},
    )
    suite = get_suite(cs)
    for mode in (m for m in DeploymentMode if m.name != "reserved"):
        rng = Rng(f"ckv tree head vectors {cs.name} {mode.name}")
        config, log_sk, _ = make_configuration(cs, mode, rng)
        encoded = wire.encode(config, suite=cs).hex()
        root = rng(32)

        def add(  # noqa: PLR0917 - a row of the vector table
            name: str,
            what: str,
            reqs: Sequence[str],
            result: str,
            head: TreeHead,
            root: bytes,
            flags: Sequence[str] = (),
            config_hex: str = encoded,
        ) -> None:
            inp = {
                "configuration": config_hex,
                "tree_head": wire.encode(head, suite=cs).hex(),
                "root": root.hex(),
            }
            vf.add_reference(
                handle_tree_head,
                name=name,
                description=f"{mode.name}: {what}",  # noqa: B023 - called within the iteration that defines it
                requirements=reqs,
                result=result,
                input=inp,
                flags=flags,
            )

        head = sign_tree_head(config, log_sk, 1000, root)
        add("valid", "a tree head of size 1000", ["SUITE-017", "SUITE-018"], "valid", head, root)
        add(
            "modified-signature",
            "signature bit 9 flipped",
            ["SUITE-018"],
            "invalid",
            replace(head, signature=flip_bit(head.signature, 9)),
            root,
            ["ModifiedSignature"],
        )
        add(
            "wrong-root",
            "checked over another root",
            ["SUITE-018"],
            "invalid",
            head,
            flip_bit(root, 0),
            ["WrongRoot"],
        )
        add(
            "wrong-size",
            "tree size 1001 with the signature of 1000",
            ["SUITE-018"],
            "invalid",
            replace(head, tree_size=1001),
            root,
            ["WrongSize"],
        )
        rogue = rng(32)
        rogue_sig = suite.sign(rogue, tree_head_tbs(config, 1000, root))
        add(
            "wrong-signer",
            "signed with a key not in the configuration",
            ["SUITE-018"],
            "invalid",
            replace(head, signature=rogue_sig),
            root,
            ["WrongSigner"],
        )
        other = replace(config, max_ahead=config.max_ahead + 1)
        add(
            "other-configuration",
            "signed under a configuration with another max_ahead",
            ["SUITE-017"],
            "invalid",
            head,
            root,
            ["OtherConfiguration"],
            wire.encode(other, suite=cs).hex(),
        )
    return vf


# -- kt.full-tree-head.verify ------------------------------------------------------------

FTH_NOTES = {
    "SameWithoutAdvertised": Note(
        "PROTOCOL", "`same` answers a request that advertised no size (SUITE-019)."
    ),
    "StaleHead": Note(
        "ROLLBACK", "The new tree head is not larger than the advertised one (SUITE-021)."
    ),
    "ClockAhead": Note(
        "FRESHNESS", "The rightmost entry is too far ahead of the clock (SUITE-020)."
    ),
    "ClockBehind": Note(
        "FRESHNESS", "The rightmost entry is too far behind the clock (SUITE-020)."
    ),
    "ModifiedSignature": Note(
        "AUTH_BYPASS", "The tree head signature does not verify (SUITE-018)."
    ),
    "Shape": Note("PROTOCOL", "An auditor tree head is missing or unexpected (SUITE-022)."),
    "AuditorStart": Note(
        "PROTOCOL", "The previous auditor size is below auditor_start_pos (SUITE-023)."
    ),
    "AuditorLag": Note("FRESHNESS", "The auditor is ahead of the log or lags too far (SUITE-024)."),
    "AuditorSize": Note("PROTOCOL", "The auditor has seen more than the tree head (SUITE-025)."),
    "AuditorSignature": Note("AUTH_BYPASS", "The auditor's signature does not verify (SUITE-026)."),
}


def handle_full_tree_head(request: JSON) -> JSON:
    """Reference handler of ``kt.full-tree-head.verify``: the size the response is about."""
    config = _config_of(request)
    head = wire.decode(
        FullTreeHead, hexb(request["full_tree_head"]), suite=config.ciphersuite, mode=config.mode
    )
    root = request.get("root")
    auditor_root = request.get("auditor_root")
    verified = verify_full_tree_head(
        config,
        head,
        advertised_size=request.get("advertised_size"),
        rightmost_timestamp=int(request["rightmost_timestamp"]),
        now_ms=int(request["now_ms"]),
        root=None if root is None else hexb(root),
        auditor_root=None if auditor_root is None else hexb(auditor_root),
        previous_auditor_tree_size=request.get("previous_auditor_tree_size"),
    )
    return {"tree_size": verified.tree_size, "updated": verified.updated}


def _full_tree_head_file(cs: CipherSuite) -> VectorFile:
    short = SUITE_SHORT[cs]
    vf = VectorFile(
        path=f"kt/full-tree-head.{short}.json",
        kind="kt.full-tree-head.verify",
        short=short,
        description=f"Verify a FullTreeHead against the advertised size, the clock and the "
        f"candidate roots under {cs.name} (KEYTRANS §11.3, §11.4).",
        parameters={"cipher_suite": cs.name},
    )
    for mode in (m for m in DeploymentMode if m.name != "reserved"):
        rng = Rng(f"ckv full tree head vectors {cs.name} {mode.name}")
        config, log_sk, auditor_sk = make_configuration(cs, mode, rng)
        encoded = wire.encode(config, suite=cs).hex()
        root, auditor_root = rng(32), rng(32)
        auditing = auditor_sk is not None

        def add(  # noqa: PLR0917 - a row of the vector table
            name: str,
            what: str,
            reqs: Sequence[str],
            result: str,
            fth: FullTreeHead,
            flags: Sequence[str] = (),
            **fields: Any,
        ) -> None:
            inp = {
                "configuration": encoded,  # noqa: B023 - called within the iteration that defines it
                "full_tree_head": wire.encode(fth, suite=cs, mode=mode).hex(),  # noqa: B023 - called within the iteration that defines it
                "advertised_size": None,
                "rightmost_timestamp": T0,
                "now_ms": T0,
                "root": root.hex(),  # noqa: B023 - called within the iteration that defines it
                "auditor_root": auditor_root.hex() if auditing else None,  # noqa: B023 - called within the iteration that defines it
                "previous_auditor_tree_size": None,
            } | fields
            vf.add_reference(
                handle_full_tree_head,
                name=name,
                description=f"{mode.name}: {what}",  # noqa: B023 - called within the iteration that defines it
                requirements=reqs,
                result=result,
                input=inp,
                flags=flags,
            )

        head = sign_tree_head(config, log_sk, 50, root)
        ath = (
            sign_auditor_tree_head(config, auditor_sk, T0 - 1000, 40, auditor_root)
            if auditor_sk
            else None
        )
        updated = FullTreeHead(
            head_type=FullTreeHeadType.updated, tree_head=head, auditor_tree_head=ath
        )
        same = FullTreeHead(head_type=FullTreeHeadType.same)
        add("updated", "an updated head, no size advertised", ["SUITE-018"], "valid", updated)
        add(
            "updated",
            "an updated head larger than the advertised 49",
            ["SUITE-021"],
            "valid",
            updated,
            advertised_size=49,
        )
        add(
            "same",
            "`same` after advertising 50",
            ["SUITE-019"],
            "valid",
            same,
            advertised_size=50,
            root=None,
            auditor_root=None,
        )
        add(
            "same-unadvertised",
            "`same` when no size was advertised",
            ["SUITE-019"],
            "invalid",
            same,
            ["SameWithoutAdvertised"],
            root=None,
            auditor_root=None,
        )
        add(
            "stale-head",
            "an updated head equal to the advertised 50",
            ["SUITE-021"],
            "invalid",
            updated,
            ["StaleHead"],
            advertised_size=50,
        )
        add(
            "stale-head",
            "an updated head smaller than the advertised 60",
            ["SUITE-021"],
            "invalid",
            updated,
            ["StaleHead"],
            advertised_size=60,
        )
        add(
            "clock-ahead",
            "rightmost entry max_ahead + 1 ms in the future",
            ["SUITE-020"],
            "invalid",
            updated,
            ["ClockAhead"],
            rightmost_timestamp=T0 + config.max_ahead + 1,
            now_ms=T0,
        )
        add(
            "clock-behind",
            "rightmost entry max_behind + 1 ms in the past",
            ["SUITE-020"],
            "invalid",
            updated,
            ["ClockBehind"],
            now_ms=T0 + config.max_behind + 1,
        )
        add(
            "clock-behind",
            "`same` whose rightmost entry is too old",
            ["SUITE-020"],
            "invalid",
            same,
            ["ClockBehind"],
            advertised_size=50,
            now_ms=T0 + config.max_behind + 1,
            root=None,
            auditor_root=None,
        )
        bad = replace(updated, tree_head=replace(head, signature=flip_bit(head.signature, 200)))
        add(
            "modified-signature",
            "tree head signature bit flipped",
            ["SUITE-018"],
            "invalid",
            bad,
            ["ModifiedSignature"],
        )
        if auditing:
            assert auditor_sk is not None
            assert ath is not None
            add(
                "auditor-start",
                "previous auditor size below auditor_start_pos",
                ["SUITE-023"],
                "invalid",
                updated,
                ["AuditorStart"],
                previous_auditor_tree_size=1,
            )
            add(
                "auditor-start",
                "previous auditor size at auditor_start_pos",
                ["SUITE-023"],
                "valid",
                updated,
                previous_auditor_tree_size=2,
            )
            ahead = sign_auditor_tree_head(config, auditor_sk, T0 + 1, 40, auditor_root)
            add(
                "auditor-lag",
                "auditor timestamp after the rightmost entry",
                ["SUITE-024"],
                "invalid",
                replace(updated, auditor_tree_head=ahead),
                ["AuditorLag"],
            )
            assert config.max_auditor_lag is not None
            late = sign_auditor_tree_head(
                config, auditor_sk, T0 - config.max_auditor_lag - 1, 40, auditor_root
            )
            add(
                "auditor-lag",
                "auditor lags by max_auditor_lag + 1 ms",
                ["SUITE-024"],
                "invalid",
                replace(updated, auditor_tree_head=late),
                ["AuditorLag"],
            )
            big = sign_auditor_tree_head(config, auditor_sk, T0 - 1000, 51, auditor_root)
            add(
                "auditor-size",
                "auditor tree size 51 above the tree head's 50",
                ["SUITE-025"],
                "invalid",
                replace(updated, auditor_tree_head=big),
                ["AuditorSize"],
            )
            forged = replace(ath, signature=flip_bit(ath.signature, 33))
            add(
                "auditor-signature",
                "auditor signature bit flipped",
                ["SUITE-026"],
                "invalid",
                replace(updated, auditor_tree_head=forged),
                ["AuditorSignature"],
            )
        else:
            assert ath is None
            stray = FullTreeHead(
                head_type=FullTreeHeadType.updated, tree_head=head, auditor_tree_head=None
            )
            add(
                "updated",
                "an updated head without auditor tree head",
                ["SUITE-022"],
                "valid",
                stray,
            )
    return vf


_OBJ = {"type": "object"}
_NULL_OR_HEX = {"anyOf": [HEX, {"type": "null"}]}
_NULL_OR_INT = {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]}


def _obj(required: dict[str, JSON]) -> JSON:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": sorted(required),
        "properties": required,
    }


register(
    VectorKind(
        name="suite.signature.verify",
        description="Verify a signature of the cipher suite's signature scheme (KEYTRANS §17.1).",
        generate=lambda: [_signature_file(cs) for cs in SUITES],
        input_schema=_obj(
            {
                "cipher_suite": {"type": "string"},
                "public_key": HEX,
                "message": HEX,
                "signature": HEX,
            }
        ),
        output_schema={"type": "null"},
        notes=SIG_NOTES,
        handler=handle_signature,
    )
)
register(
    VectorKind(
        name="kt.vrf.verify",
        description="Verify a VRF proof for a label-version pair; output the search key (§11.7).",
        generate=lambda: [_vrf_file(cs) for cs in SUITES],
        input_schema=_obj(
            {
                "cipher_suite": {"type": "string"},
                "public_key": HEX,
                "label": HEX,
                "version": {"type": "integer", "minimum": 0},
                "proof": HEX,
            }
        ),
        output_schema=_obj({"output": HEX}),
        notes=VRF_NOTES,
        handler=handle_vrf,
    )
)
register(
    VectorKind(
        name="kt.commitment.verify",
        description="Open a commitment; output the encoded CommitmentValue (KEYTRANS §11.6).",
        generate=lambda: [_commitment_file(cs) for cs in SUITES],
        input_schema=_obj(
            {
                "cipher_suite": {"type": "string"},
                "mode": {"type": "string"},
                "commitment": HEX,
                "opening": HEX,
                "label": HEX,
                "version": {"type": "integer", "minimum": 0},
                "update": HEX,
            }
        ),
        output_schema=_obj({"commitment_value": HEX}),
        notes=COMMIT_NOTES,
        handler=handle_commitment,
    )
)
register(
    VectorKind(
        name="kt.tree-head.verify",
        description="Verify TreeHead.signature over TreeHeadTBS (KEYTRANS §11.2).",
        generate=lambda: [_tree_head_file(cs) for cs in SUITES],
        input_schema=_obj({"configuration": HEX, "tree_head": HEX, "root": HEX}),
        output_schema={"type": "null"},
        notes=TH_NOTES,
        handler=handle_tree_head,
    )
)
register(
    VectorKind(
        name="kt.full-tree-head.verify",
        description="Verify a FullTreeHead (KEYTRANS §11.3, §11.4); output the size it is about.",
        generate=lambda: [_full_tree_head_file(cs) for cs in SUITES],
        input_schema=_obj(
            {
                "configuration": HEX,
                "full_tree_head": HEX,
                "advertised_size": _NULL_OR_INT,
                "rightmost_timestamp": {"type": "integer"},
                "now_ms": {"type": "integer"},
                "root": _NULL_OR_HEX,
                "auditor_root": _NULL_OR_HEX,
                "previous_auditor_tree_size": _NULL_OR_INT,
            }
        ),
        output_schema=_obj({"tree_size": {"type": "integer"}, "updated": {"type": "boolean"}}),
        notes=FTH_NOTES,
        handler=handle_full_tree_head,
    )
)
