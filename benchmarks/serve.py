"""Run ``python -m flows.serve`` as an operator does and measure it: an idle inbox, a SIGKILL loop.

    python -m benchmarks.serve idle [--minutes 10] [--poll 10] [--mode immediate]
    python -m benchmarks.serve kills [--documents 40] [--kills 5] [--seed 3]

Each uses a throw-away Prefect server on a free port (never 4200), its own Prefect home and
temporary run-time folders. ``idle`` leaves the inbox empty for ``--minutes`` and counts result
folders and flow runs, then drops one scan and times how long it waits in the inbox and until it
is archived. ``kills`` drops ``--documents`` scans with unique bytes, kills serve's whole process
group with SIGKILL while a run holds them, ``--kills`` times, restarting serve each time, and
times how long each restarted serve takes to take up the dead run's files; then it lets serve
finish, audits every file (lost, read twice: 0) and counts runs left Pending or Running.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks import free_port
from benchmarks.faults.badfiles import distinct_scans
from benchmarks.faults.kills import Audit, audit, inputs_of
from benchmarks.reliability import _start_server

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("inbox", "processing", "archive", "quarantine", "output", "reviewed")
KEEP_LOG: Path | None = None  # where to copy serve's log (--log)


def _api(api: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{api}{path}", data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.loads(reply.read().decode())


def flow_runs(api: str) -> list[dict[str, Any]]:
    """Every digitise-forms flow run on the server."""
    flows = _api(api, "/flows/filter", {"flows": {"name": {"any_": ["digitise-forms"]}}})
    if not flows:
        return []
    body = {"flows": {"id": {"any_": [flows[0]["id"]]}}, "limit": 200}
    runs: list[dict[str, Any]] = []
    while True:
        page = _api(api, "/flow_runs/filter", {**body, "offset": len(runs)})
        runs += page
        if len(page) < 200:
            return runs


class Serve:
    """One installation: its server, its folders, and the serve process (restartable)."""

    def __init__(self, root: Path, **settings: str) -> None:
        """Start the server; set up the folders and the environment serve runs in."""
        self.root = root
        self.folders = {name: root / name for name in FOLDERS}
        port = free_port()
        self.api = f"http://127.0.0.1:{port}/api"
        home = root / ".prefect"
        home.mkdir(parents=True)
        self.server = _start_server(port, home, root / "server.log")
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "PREFECT_HOME": str(home),
            "PREFECT_API_URL": self.api,
            "PREFECT_SERVER_API_PORT": str(port),
            **{f"DIGITISE_{k.upper()}_DIR": str(v) for k, v in self.folders.items()},
            **{f"DIGITISE_{k.upper()}": v for k, v in settings.items()},
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start ``python -m flows.serve`` in its own process group."""
        with (self.root / "serve.log").open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flows.serve"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def ready(self, limit_s: float = 120.0) -> bool:
        """Wait until serve has registered the folder-watch deployment."""
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            try:
                _api(self.api, "/deployments/name/digitise-forms/folder-watch")
                return True
            except OSError:
                time.sleep(0.5)
        return False

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal serve's whole process group (serve and the runs it started)."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def close(self) -> None:
        """Stop serve and the server; keep serve's log where ``--log`` says."""
        self.kill(signal.SIGINT)
        self.server.terminate()
        self.server.wait(timeout=60)
        if KEEP_LOG:
            shutil.copy(self.root / "serve.log", KEEP_LOG)

    def files(self, name: str) -> list[Path]:
        """The files (not locks) under one run-time folder."""
        folder = self.folders[name]
        return [p for p in folder.rglob("*") if p.is_file() and p.name != ".lock"]


def _wait(condition: Any, limit_s: float, step_s: float = 0.2) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        if condition():
            return time.monotonic() - started
        time.sleep(step_s)
    return None


def idle(minutes: float, poll_s: int, mode: str, settle_s: float) -> dict[str, object]:
    """Leave the inbox empty, count what that made, then time one dropped scan."""
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        serve = Serve(
            Path(tmp), watch_mode=mode, poll_interval_s=str(poll_s), settle_s=str(settle_s)
        )
        try:
            serve.start()
            if not serve.ready():
                return {"verdict": "FAIL: serve did not register its deployments"}
            time.sleep(minutes * 60)
            runs = flow_runs(serve.api)
            folders = [p for p in serve.folders["output"].iterdir() if p.is_dir()]
            states = Counter(str(r["state"]["name"]) for r in runs if r.get("state"))
            distinct_scans(serve.root / "drop", 1, seed=1)
            [scan] = list((serve.root / "drop").iterdir())
            dropped = time.monotonic()
            shutil.move(scan, serve.folders["inbox"] / scan.name)
            taken = _wait(lambda: not any(serve.folders["inbox"].iterdir()), 300)
            archived = _wait(lambda: bool(serve.files("archive")), 300)
            total = time.monotonic() - dropped
        finally:
            serve.close()
    return {
        "mode": mode,
        "poll interval (s)": poll_s,
        "settle time (s)": settle_s,
        "minutes with an empty inbox": minutes,
        "result folders made (must be 0)": len(folders),
        "flow runs made": len(runs),
        "their states": dict(states),
        "scan dropped -> claimed from the inbox (s)": None if taken is None else round(taken, 1),
        "scan dropped -> archived with results (s)": None if archived is None else round(total, 1),
    }


def kills(documents: int, count: int, seed: int) -> dict[str, object]:
    """SIGKILL serve's process group while a run holds the files; time each take-up."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="bench-kills-") as tmp:
        serve = Serve(Path(tmp), settle_s="0")
        inbox = serve.folders["inbox"]
        scans = distinct_scans(inbox, documents, seed=seed)
        inputs = inputs_of(scans)
        take_ups: list[float | None] = []
        moments: list[float] = []
        try:
            serve.start()
            for _ in range(count):
                held = _wait(lambda: bool(serve.files("processing")), 300)
                if held is None:
                    break
                moments.append(round(rng.uniform(1.0, 8.0), 1))
                time.sleep(moments[-1])  # into the run: reading, writing or archiving
                dead = {p.parent.name for p in serve.files("processing")}
                serve.kill()
                serve.start()
                restarted = time.monotonic()

                def taken(dead: set[str] = dead) -> bool:
                    folders = {p.parent.name for p in serve.files("processing")}
                    return not (dead & folders) and not any(
                        (serve.folders["processing"] / d).exists() for d in dead
                    )

                took = _wait(taken, 300)
                take_ups.append(None if took is None else round(time.monotonic() - restarted, 1))
            finished = _wait(
                lambda: not serve.files("inbox") and not serve.files("processing"), 900
            )
            time.sleep(5)  # the last run settles its state
            runs = flow_runs(serve.api)
            result = audit(inputs, **{k: v for k, v in serve.folders.items() if k != "reviewed"})
        finally:
            serve.close()
    return _kill_figures(documents, moments, take_ups, finished is not None, runs, result)


def _kill_figures(
    documents: int,
    moments: list[float],
    take_ups: list[float | None],
    finished: bool,
    runs: list[dict[str, Any]],
    result: Audit,
) -> dict[str, object]:
    states = Counter(str(r["state"]["name"]) for r in runs if r.get("state"))
    stuck = sum(states[name] for name in ("Pending", "Submitting", "Running"))
    worst = max((t for t in take_ups if t is not None), default=None)
    passed = result.ok and not stuck and None not in take_ups and (worst or 0) <= 30
    return {
        "documents": documents,
        "SIGKILLs of serve's process group": len(moments),
        "kill moments (s after the files were claimed)": moments,
        "restart -> dead run's files taken up (s)": take_ups,
        "slowest take-up (s; target 30)": worst,
        "finished after the last restart": finished,
        "processed / quarantined": f"{result.processed} / {result.quarantined}",
        "lost (must be 0)": len(result.lost),
        "read twice (must be 0)": len(result.twice),
        "half-written CSVs (must be 0)": len(result.half_written),
        "left in inbox/processing (must be 0)": len(result.left_over),
        "flow runs": len(runs),
        "their states": dict(states),
        "runs left Pending/Submitting/Running (must be 0)": stuck,
        "verdict": "PASS" if passed else "FAIL",
    }


def main() -> int:
    """Parse the arguments, run the chosen measurement, print its figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serve", description=__doc__)
    parser.add_argument("--log", type=Path, help="keep serve's log there")
    sub = parser.add_subparsers(dest="what", required=True)
    one = sub.add_parser("idle", help="an empty inbox, then one scan")
    one.add_argument("--minutes", type=float, default=10.0)
    one.add_argument("--poll", type=int, default=10)
    one.add_argument("--settle", type=float, default=5.0)
    one.add_argument("--mode", choices=("immediate", "schedule"), default="immediate")
    two = sub.add_parser("kills", help="SIGKILL serve while a run holds the files")
    two.add_argument("--documents", type=int, default=40)
    two.add_argument("--kills", type=int, default=5)
    two.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    global KEEP_LOG
    KEEP_LOG = args.log
    if args.what == "idle":
        figures = idle(args.minutes, args.poll, args.mode, args.settle)
    else:
        figures = kills(args.documents, args.kills, args.seed)
    for name, value in figures.items():
        print(f"{name}: {value}")
    return 0 if figures.get("verdict", "PASS") == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
