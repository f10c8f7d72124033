"""Load test of the directory service on loopback (spec chapter "Directory API").

For SQLite and PostgreSQL (when scripts/ckv-postgres.sh can start a server):

* populate N labels (one version each) in batched entries, in process: publish
  throughput in label-versions/s, and single-label entries (one entry per publish,
  each committed before the next);
* storage bytes per label, and the time a restarting process takes to replay the log;
* a real ``ckv directory serve`` process on that database, K client threads
  searching random labels over HTTP for D seconds: searches/s, p50/p99 latency;
  the same while one thread publishes single-label entries (writes/s under load).

Run: ``.venv/bin/python benchmarks/bench_service.py [--quick] [--labels N]``.
``--quick`` (2,000 labels, short phases) finishes in under a minute; the default is
10^5 labels (about five minutes, dominated by the 1 ms VRF evaluation per label).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from ckv.demo import SeededRandom, demo_configuration
from ckv.device import Device
from ckv.identity import parse_handle
from ckv.service.client import HttpDirectory
from ckv.service.durable import DurableDirectory
from ckv.service.storage import open_storage
from ckv.sync import InMemorySyncService
from ckv.transparency_log import LogKeys
from ckv.wire import messages

REPO = Path(__file__).resolve().parent.parent
PG = REPO / "scripts" / "ckv-postgres.sh"


def wall() -> int:
    return time.time_ns() // 1_000_000


def keys() -> LogKeys:
    r = SeededRandom(b"bench service")
    log_key, vrf_key = r(32), r(32)
    return LogKeys(demo_configuration(log_key, vrf_key), log_key, vrf_key)


def label(i: int) -> bytes:
    return b"bench-label-%08d" % i


def populate(url: str, n: int, batch: int) -> dict[str, float]:
    directory = DurableDirectory(keys(), open_storage(url), clock=wall)
    start = time.perf_counter()
    for first in range(0, n, batch):
        requests = [
            messages.UpdateRequest(
                last=None,
                label=label(i),
                greatest_version=None,
                values=(messages.LabelValue(value=b"value %d" % i),),
            )
            for i in range(first, min(n, first + batch))
        ]
        directory.update_batch(requests)
    batched = n / (time.perf_counter() - start)
    singles = 200 if n > 10_000 else 50
    start = time.perf_counter()
    for i in range(n, n + singles):
        directory.update(
            messages.UpdateRequest(
                last=None,
                label=label(i),
                greatest_version=None,
                values=(messages.LabelValue(value=b"x"),),
            )
        )
    single = singles / (time.perf_counter() - start)
    used = directory.storage.bytes_used()
    directory.storage.close()
    start = time.perf_counter()
    again = DurableDirectory(keys(), open_storage(url), clock=wall)
    replay = time.perf_counter() - start
    again.storage.close()
    return {
        "batched": batched,
        "single": single,
        "bytes_per_label": used / (n + singles),
        "replay_s": replay,
    }


def serve(url: str, tmp: Path) -> tuple[subprocess.Popen[str], str]:
    key_file = tmp / "keys.json"
    k = keys()
    key_file.write_text(
        json.dumps(
            {
                "suite": k.config.ciphersuite.name,
                "signature_private_key": k.signature_private_key.hex(),
                "vrf_private_key": k.vrf_private_key.hex(),
            }
        )
    )
    code = "import sys; from ckv.cli.directory import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            "directory",
            "serve",
            "--port",
            "0",
            "--db",
            url,
            "--keys",
            str(key_file),
            "--rate",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return proc, line.removeprefix("listening on ").strip()


def load(url: str, n: int, seconds: float, threads: int, publish: bool) -> dict[str, float]:
    latencies: list[float] = []
    lock = threading.Lock()
    stop = threading.Event()
    published = [0]

    def searcher(seed: int) -> None:
        http = HttpDirectory(url, f"s{seed}")
        rng = random.Random(seed)
        mine = []
        while not stop.is_set():
            request = messages.SearchRequest(last=None, label=label(rng.randrange(n)), version=None)
            t = time.perf_counter()
            http.search(request)
            mine.append(time.perf_counter() - t)
        with lock:
            latencies.extend(mine)
        http.close()

    def publisher() -> None:
        # A CKV account toggling CKV: each toggle publishes a signed account state
        # (accepted by the directory's policy), after the device's own lookups.
        http = HttpDirectory(url, "publisher")
        config = http.configuration()
        sync = InMemorySyncService(SeededRandom(b"bench sync"), config.ciphersuite)
        device = Device(
            "owner", transport=http, sync=sync, clock=wall, random_bytes=SeededRandom(b"dev")
        )
        device.create_account([parse_handle(f"owner{uuid.uuid4().hex[:6]}@example.org")])
        on = False
        while not stop.is_set():
            if on:
                device.disable_ckv()
            else:
                device.enable_ckv()
            on = not on
            published[0] += 1
        http.close()

    workers = [threading.Thread(target=searcher, args=(s,)) for s in range(threads)]
    if publish:
        workers.append(threading.Thread(target=publisher))
    for w in workers:
        w.start()
    time.sleep(seconds)
    stop.set()
    for w in workers:
        w.join()
    latencies.sort()
    return {
        "qps": len(latencies) / seconds,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "writes": published[0] / seconds,
    }


def pg_server(tmp: Path) -> tuple[str | None, Path]:
    data = Path("/tmp") / f"ckv-bench-pg-{uuid.uuid4().hex[:8]}"
    try:
        out = subprocess.run(
            ["sh", str(PG), "start", str(data), str(21000 + os.getpid() % 10000)],
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
    except (subprocess.CalledProcessError, OSError, subprocess.TimeoutExpired) as error:
        print(f"PostgreSQL skipped: {error}")
        return None, data
    import psycopg  # noqa: PLC0415 - only needed when a PostgreSQL server is there

    base = out.stdout.strip()
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    del tmp
    return base.rsplit("/", 1)[0] + "/" + name, data


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--labels", type=int)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    n = args.labels or (2_000 if args.quick else 100_000)
    seconds = 3.0 if args.quick else 15.0
    tmp = Path(tempfile.mkdtemp(prefix="ckv-bench-"))
    rows = []
    pg_url, pg_data = pg_server(tmp)
    backends = [("sqlite", str(tmp / "bench.sqlite"))]
    if pg_url is not None:
        backends.append(("postgres", pg_url))
    try:
        for name, url in backends:
            t = time.perf_counter()
            stored = populate(url, n, batch=1000)
            proc, base = serve(url, tmp)
            try:
                idle = load(base, n, seconds, args.threads, publish=False)
                busy = load(base, n, seconds, args.threads, publish=True)
            finally:
                proc.terminate()
                proc.wait()
                if proc.stdout:
                    proc.stdout.close()
            rows.append((name, stored, idle, busy, time.perf_counter() - t))
    finally:
        if pg_url is not None:
            subprocess.run(["sh", str(PG), "stop", str(pg_data)], check=False)
            shutil.rmtree(pg_data, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"\nCKV directory service, {n} labels, {args.threads} search threads, loopback, "
        f"{os.cpu_count()} CPUs\n"
    )
    print(
        "| backend | publish batched (label-versions/s) | publish 1 label/entry (entries/s) "
        "| bytes/label | restart (s) | searches/s | p50 ms | p99 ms "
        "| searches/s while publishing | p50 ms | p99 ms | account publishes/s |"
    )
    print("|" + "---|" * 12)
    for name, s, idle, busy, _ in rows:
        print(
            f"| {name} | {s['batched']:.0f} | {s['single']:.1f} | {s['bytes_per_label']:.0f} "
            f"| {s['replay_s']:.1f} | {idle['qps']:.0f} | {idle['p50_ms']:.1f} "
            f"| {idle['p99_ms']:.1f} | {busy['qps']:.0f} | {busy['p50_ms']:.1f} "
            f"| {busy['p99_ms']:.1f} | {busy['writes']:.1f} |"
        )
    for name, *_, took in rows:
        print(f"{name}: {took:.0f} s")


if __name__ == "__main__":
    main()
