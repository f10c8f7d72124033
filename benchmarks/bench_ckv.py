"""CKV layer: account-state validation and contact verification against their primitive cost.

    python benchmarks/bench_ckv.py [--quick]

1. Validating an account state with k devices costs k + 1 signature
   verifications (every device record, then the state) and the decoding; the
   table gives the measured time over the time of those k + 1 verifications
   measured in the same run.
2. Verifying a contact end to end (``Device.verify_contact``: two searches of
   the directory, each fully verified, then the account state and the handle
   binding) against the same two searches verified by ``KTClient.lookup`` alone
   plus the k + 2 signature verifications: the CKV layer's own overhead.
3. Deriving a public verification code (PBKDF2, 2^17 iterations) against one
   PBKDF2 of the same input with the same library (``cryptography``); Python's
   ``hashlib.pbkdf2_hmac`` is shown beside it as a peer.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Callable
from dataclasses import replace

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from ckv import wire
from ckv.account import generate_account_key, public_code_key, validate_account_state
from ckv.cipher_suites import get_suite
from ckv.demo import SeededRandom, build_world
from ckv.enrollment import add_device, create_account
from ckv.identity import account_label, handle_label, parse_handle
from ckv.public_code import CONTEXT, ITERATIONS, PublicCode, code_input
from ckv.wire.messages import (
    CipherSuite,
    DeviceCapability,
    DeviceRecord,
    MessagingKey,
    MessagingKeyType,
)

ED = CipherSuite.KT_128_SHA256_Ed25519


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Fastest seconds per call over ``repeat`` calls (after one warm-up).

    The minimum, not the median: on a shared machine it is the figure least
    disturbed by other work, for the measured code and its floor alike.
    """
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return min(samples)


def record(n: int) -> DeviceRecord:
    return DeviceRecord(
        device_id=n.to_bytes(16, "big"),
        protocol_version=2,
        software_version=1,
        capabilities=(DeviceCapability.ckv,),
        messaging_keys=(MessagingKey(key_type=MessagingKeyType.x25519, key=bytes(32)),),
        enrolled_at=0,
    )


def validation_table(sizes: list[int], repeat: int) -> None:
    suite = get_suite(ED)
    account_id = b"\x01" * 16
    pair = generate_account_key(ED, account_id, SeededRandom(b"bench"))
    message = b"x" * 200
    signature = suite.sign(pair.private, message)
    verify_one = timed(lambda: suite.verify(pair.public.key, message, signature), repeat * 10)
    print("Account-state validation (Ed25519), best of", repeat)
    print(f"{'devices':>8} {'bytes':>7} {'validate ms':>12} {'k+1 verifies ms':>16} {'ratio':>6}")
    label = account_label(account_id)
    for k in sizes:
        signed = create_account(pair, record(0), [parse_handle("a@example.org")], 0)
        for n in range(1, k):
            signed = add_device(pair, signed.state, record(n), 0)
        value = wire.encode(signed)
        took = timed(lambda v=value: validate_account_state(label, v, suite=ED), repeat)
        floor = (k + 1) * verify_one
        print(
            f"{k:>8} {len(value):>7} {took * 1e3:>12.3f} {floor * 1e3:>16.3f} {took / floor:>6.2f}"
        )


def contact_table(repeat: int) -> None:
    world = build_world(b"bench contact")
    alice = world.device("alice", "Alice")
    alice.create_account([parse_handle("alice@example.org")])
    alice.enable_ckv()
    bob = world.device("bob", "Bob")
    bob_handle = parse_handle("bob@example.org")
    bob.create_account([bob_handle])
    for n in range(3):
        bob.enroll(world.device(f"bob-{n}", f"Bob {n}"))
    bob.enable_ckv()
    alice.verify_contact(bob_handle)
    labels = (handle_label(bob_handle), account_label(bob.account_id or b""))
    state = bob.account_state()
    suite = get_suite(ED)
    sig = suite.sign(b"\x02" * 32, b"m")
    pub = suite.signature_public_key(b"\x02" * 32)
    verify_one = timed(lambda: suite.verify(pub, b"m", sig), repeat * 10)

    def lookups() -> None:
        for label in labels:
            alice.kt.lookup(label)

    def verify() -> None:
        contact = alice.verify_contact(bob_handle)
        assert not contact.alerts

    base = timed(lookups, repeat) + (len(state.devices) + 2) * verify_one
    took = timed(verify, repeat)
    print()
    print(f"Contact verification, {len(state.devices)} devices, best of {repeat}")
    print(f"{'verify_contact ms':>18} {'2 lookups + sigs ms':>20} {'ratio':>6}")
    print(f"{took * 1e3:>18.3f} {base * 1e3:>20.3f} {took / base:>6.2f}")


def code_table(repeat: int) -> None:
    account = public_code_key(
        replace(
            generate_account_key(ED, b"\x03" * 16, SeededRandom(b"code")).public,
        )
    )
    data = code_input(account)

    def pbkdf2() -> bytes:
        kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=14, salt=CONTEXT, iterations=ITERATIONS)
        return kdf.derive(data)

    took = timed(lambda: PublicCode.for_key(account), repeat)
    floor = timed(pbkdf2, repeat)
    peer = timed(lambda: hashlib.pbkdf2_hmac("sha256", data, CONTEXT, ITERATIONS, 14), repeat)
    print()
    print(f"Public verification code derivation (2^17 iterations), best of {repeat}")
    print(f"{'derive ms':>10} {'PBKDF2 ms':>10} {'ratio':>6} {'hashlib ms':>11}")
    print(f"{took * 1e3:>10.2f} {floor * 1e3:>10.2f} {took / floor:>6.2f} {peer * 1e3:>11.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeat = 5 if args.quick else 30
    validation_table([1, 4, 16] if args.quick else [1, 4, 16, 64], repeat)
    contact_table(repeat)
    code_table(3 if args.quick else 10)


if __name__ == "__main__":
    main()
