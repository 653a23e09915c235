"""Run the bad-input corpus and a SIGKILL loop through the pipeline and print what became of them.

    python -m benchmarks.reliability [--documents 50] [--kills 8] [--seed 6]

Uses a throw-away Prefect server and temporary folders. Part 1 runs every file of the bad-input
corpus (tests/resources/bad/README.md) through a manual run and the folder watch. Part 2 drops
``--documents`` files into the inbox (sample scans, each with unique bytes, and a few broken
files), starts a folder-watch process (five files per run) and SIGKILLs it at random moments
``--kills`` times, then lets one process finish, and audits every file: processed (archived once,
its rows in exactly one complete run) or quarantined; lost, processed twice, half-written CSVs and
hangs must all be 0.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks import free_port
from benchmarks.faults.badfiles import distinct_scans, make_corpus
from benchmarks.faults.kills import (
    Audit,
    audit,
    inputs_of,
    kill_loop,
    start_worker,
    wait_for_line,
    work_left,
)
from flows.prefect_server import server_is_up
from ocr_core.results.csvfiles import read_csv_rows

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("inbox", "processing", "archive", "quarantine", "output")
HANG_S = 600.0


def _set_folders(root: Path) -> dict[str, Path]:
    folders = {name: root / name for name in FOLDERS}
    for name, path in folders.items():
        os.environ[f"DIGITISE_{name.upper()}_DIR"] = str(path)
    folders["inbox"].mkdir(parents=True)
    return folders


def _bounded(call: object, limit_s: float) -> tuple[object, bool]:
    """Run ``call()`` in a thread; return (its result, True) or (None, False) past ``limit_s``."""
    box: list[object] = []
    thread = threading.Thread(target=lambda: box.append(call()), daemon=True)  # type: ignore[operator]
    thread.start()
    thread.join(limit_s)
    return (box[0] if box else None), not thread.is_alive()


def corpus(root: Path) -> dict[str, int]:
    """Every bad file through a manual run and the folder watch; count what became of them."""
    from flows.digitise import run_digitise_forms

    figures = {"tried": 0, "result": 0, "error": 0, "waiting": 0, "missing": 0, "hangs": 0}
    cases = [c for c in make_corpus(root / "manual", root / "outside") if c.manual]
    files = [str(root / "manual" / c.name) for c in cases]
    summary, finished = _bounded(
        lambda: run_digitise_forms(input=files, output=str(root / "out")), HANG_S
    )
    figures["hangs"] += not finished
    folders = _set_folders(root / "watch")
    os.environ["DIGITISE_SETTLE_S"] = "120"
    watch_cases = make_corpus(folders["inbox"], root / "watch-outside")
    watched, finished = _bounded(lambda: run_digitise_forms(watch_inbox=True), HANG_S)
    figures["hangs"] += not finished
    for run, names in ((summary, [*files]), (watched, [c.name for c in watch_cases])):
        if run is None:
            continue
        run_dir = Path(run.run_dir)  # type: ignore[attr-defined]
        documents = {r["document"] for r in read_csv_rows(run_dir / "fields.csv")}
        errors = {r["document"] for r in read_csv_rows(run_dir / "errors.csv")}
        for name in names:
            figures["tried"] += 1
            if name in documents:
                figures["result"] += 1
            elif name in errors:
                figures["error"] += 1
            elif (folders["inbox"] / name).exists():
                figures["waiting"] += 1
            else:
                figures["missing"] += 1
    return figures


def _audit_figures(result: Audit) -> dict[str, object]:
    """What an audit of the inbox folders found, as printed figures."""
    return {
        "inputs tried": result.tried,
        "processed": result.processed,
        "quarantined": result.quarantined,
        "lost (must be 0)": len(result.lost),
        "processed twice (must be 0)": len(result.twice),
        "archived without results (must be 0)": len(result.no_results),
        "half-written CSVs (must be 0)": len(result.half_written),
        "left in inbox/processing (must be 0)": len(result.left_over),
    }


def kills(root: Path, documents: int, count: int, seed: int, api: str) -> dict[str, object]:
    """The SIGKILL loop on ``documents`` files; return the audit's figures."""
    folders = _set_folders(root / "kill")
    broken = {
        "empty.pdf": b"",
        "text.pdf": b"not a PDF at all\n",
        "truncated.png": (ROOT / "data/samples/scan-001.png").read_bytes()[:5000],
        "junk.tif": b"II*\x00" + os.urandom(64),
    }
    for name, data in broken.items():
        (folders["inbox"] / name).write_bytes(data)
    scans = distinct_scans(folders["inbox"], documents - len(broken), seed=seed)
    paths = [*scans, *(folders["inbox"] / name for name in broken)]
    past = time.time() - 60
    for path in paths:
        os.utime(path, (past, past))
    inputs = inputs_of(paths)
    env = {"DIGITISE_SETTLE_S": "0", "DIGITISE_INBOX_BATCH": "5", "PREFECT_API_URL": api}
    started = time.perf_counter()
    record = kill_loop(env, root / "workers.log", count, max_delay_s=2.5, seed=seed)
    result = audit(inputs, **folders)
    return {
        **_audit_figures(result),
        "hangs (must be 0)": record.hangs,
        "SIGKILLs sent": record.kills,
        "kill moments (s into a run)": record.delays,
        "complete runs / runs cut short": f"{result.complete_runs} / {result.incomplete_runs}",
        "seconds": round(time.perf_counter() - started, 1),
        "verdict": "PASS" if result.ok and record.hangs == 0 else f"FAIL {result}",
    } | ({} if result.ok else {"workers' log (end)": _tail(root / "workers.log")})


def _tail(log: Path, lines: int = 30) -> str:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else "(no log)"
    return "\n" + "\n".join(text.splitlines()[-lines:])


def _start_server(port: int, home: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1"]
    with log.open("ab") as handle:
        server = subprocess.Popen(
            [*command, "--port", str(port)],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 180
    while not server_is_up(f"http://127.0.0.1:{port}/api"):
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the Prefect server did not start; see {log}")
        time.sleep(0.5)
    return server


def server_restart(root: Path, documents: int, seed: int) -> dict[str, object]:
    """Stop the Prefect server mid-run, start it again, and audit the inbox as after kills."""
    folders = _set_folders(root / "restart")
    inputs = inputs_of(distinct_scans(folders["inbox"], documents, seed=seed + 1))
    port = free_port()
    log = root / "restart.log"
    server = _start_server(port, root / "prefect-home", log)
    env = {
        "DIGITISE_SETTLE_S": "0",
        "DIGITISE_INBOX_BATCH": "3",
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
    }
    hangs, outcome = 0, ""
    try:
        since = log.stat().st_size
        worker = start_worker(env, log)
        wait_for_line(log, "ready", since, worker, 180.0)
        time.sleep(random.Random(seed).uniform(3.0, 10.0))  # in the middle of a run
        server.kill()
        server.wait()
        down = time.monotonic()
        time.sleep(5.0)
        server = _start_server(port, root / "prefect-home", log)
        outage = time.monotonic() - down
        try:
            worker.wait(timeout=HANG_S)
            outcome = "finished" if "done" in log.read_text(errors="replace")[since:] else "crashed"
        except subprocess.TimeoutExpired:
            hangs += 1
            worker.kill()
            worker.wait()
        if work_left(folders["inbox"], folders["processing"]):
            since = log.stat().st_size
            again = start_worker(env, log)
            try:
                again.wait(timeout=HANG_S)
            except subprocess.TimeoutExpired:
                hangs += 1
                again.kill()
                again.wait()
    finally:
        server.kill()
        server.wait()
    result = audit(inputs, **folders)
    return {
        **_audit_figures(result),
        "hangs (must be 0)": hangs,
        "server down (s)": round(outage, 1),
        "worker during the outage": outcome,
        "verdict": "PASS" if result.ok and hangs == 0 else f"FAIL {result}",
    }


def main() -> int:
    """Run both parts and print the figures; exit 1 when a promise was broken."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=50)
    parser.add_argument("--kills", type=int, default=8)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--no-corpus", action="store_true", help="run the SIGKILL loop only")
    parser.add_argument(
        "--server-restart", action="store_true", help="also restart the Prefect server mid-run"
    )
    args = parser.parse_args()
    os.environ.setdefault("DO_NOT_TRACK", "1")
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with tempfile.TemporaryDirectory(prefix="reliability-") as tmp, prefect_test_harness():
        api = str(PREFECT_API_URL.value())
        started = time.perf_counter()
        bad = {"missing": 0, "hangs": 0} if args.no_corpus else corpus(Path(tmp) / "corpus")
        print("\n## Bad-input corpus (manual run + folder watch)")
        for key, value in bad.items():
            print(f"{key:>40}: {value}")
        print(f"{'seconds':>40}: {time.perf_counter() - started:.1f}")
        figures = kills(Path(tmp) / "kills", args.documents, args.kills, args.seed, api)
        print(f"\n## SIGKILL loop ({args.documents} documents, seed {args.seed})")
        for name, figure in figures.items():
            print(f"{name:>40}: {figure}")
        restart: dict[str, object] = {"verdict": "PASS"}
        if args.server_restart:
            restart = server_restart(Path(tmp) / "server", 9, args.seed)
            print("\n## Prefect server stopped and started again mid-run (9 documents)")
            for name, figure in restart.items():
                print(f"{name:>40}: {figure}")
    ok = bad["missing"] == 0 and bad["hangs"] == 0 and figures["verdict"] == "PASS"
    ok = ok and restart["verdict"] == "PASS"
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
