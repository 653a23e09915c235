"""Fault injection: a folder-watch process to SIGKILL, and an audit of what the kills left.

Run as ``python -m benchmarks.faults.kills`` (from the repository root, with the ``DIGITISE_*``
folders and ``PREFECT_API_URL`` in the environment): the process runs the folder watch again and
again until the inbox and ``processing/`` are empty, printing ``ready`` once its models are loaded
and ``run ...`` after each run.
"""

from __future__ import annotations

import csv
import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository: the worker runs from here
LOCK = ".lock"
RESULT_COLUMNS = {
    "fields.csv": "document,page,field,value,confidence,needs_review,status,reason",
    "errors.csv": "document,error,message,quarantined_to",
}


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return [p for p in folder.rglob("*") if p.is_file() and p.name != LOCK]


def work_left(inbox: Path, processing: Path) -> bool:
    """True while the inbox or ``processing/`` holds a file a run would take."""
    return bool(_files(inbox) or _files(processing))


def watch_until_empty() -> int:
    """Run the folder watch until nothing is left to take (the body of the worker process)."""
    from flows.digitise import run_digitise_forms
    from ocr_core import load_classifier
    from ocr_core.settings import load_settings

    settings = load_settings()
    for bundle in ("digits", "alnum"):  # loaded once per process: kills then land in real work
        load_classifier(settings.models_dir / bundle)
    print("ready", flush=True)
    while work_left(settings.inbox_dir, settings.processing_dir):
        summary = run_digitise_forms(watch_inbox=True)
        print(f"run {summary.processed} {summary.failed} {summary.skipped}", flush=True)
    print("done", flush=True)
    return 0


def start_worker(env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start the worker process; its output goes to ``log`` (appended)."""
    with log.open("ab") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "benchmarks.faults.kills"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=handle,
            stderr=subprocess.STDOUT,
        )


def wait_for_line(
    log: Path, text: str, since: int, process: subprocess.Popen[bytes], limit: float
) -> bool:
    """Wait until ``text`` appears in ``log`` after byte ``since``; False if the process ends."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if text in log.read_bytes()[since:].decode("utf-8", "replace"):
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.2)
    return False


@dataclass
class KillLog:
    """What the kill loop did: kills sent, runs that finished, and hangs (past the deadline)."""

    kills: int = 0
    hangs: int = 0
    restarts: int = 0
    delays: list[float] = field(default_factory=list)


def kill_loop(
    env: Mapping[str, str],
    log: Path,
    kills: int,
    max_delay_s: float,
    seed: int,
    finish_limit_s: float = 300.0,
) -> KillLog:
    """SIGKILL the worker ``kills`` times at random moments, then let one worker finish.

    Each worker is let finish 0 or 1 whole runs, then killed uniformly in [0, max_delay_s]
    seconds into the next: in claiming, reading, writing results or archiving. A worker that
    ends first is started again, up to ``3 * kills`` workers or until the inbox is empty.

    Args:
        env: environment for the worker (``DIGITISE_*`` folders, ``PREFECT_API_URL``).
        log: the workers' combined output.
        kills: how many times to kill.
        max_delay_s: about one run's duration.
        seed: seeds the kill moments.
        finish_limit_s: the most seconds the last worker may take before it counts as a hang.

    Returns:
        The kills, restarts and hangs.
    """
    rng = random.Random(seed)
    record = KillLog()
    for _ in range(3 * kills):  # a worker that finishes its run before the kill is not a kill
        if record.kills == kills:
            break
        since = log.stat().st_size if log.exists() else 0
        process = start_worker(env, log)
        record.restarts += 1
        try:
            skip = rng.randint(0, 1)
            if wait_for_line(log, "ready", since, process, 180.0) and (
                skip == 0 or wait_for_line(log, "\nrun ", since, process, finish_limit_s)
            ):
                delay = rng.uniform(0.0, max_delay_s)
                record.delays.append(round(delay, 2))
                deadline = time.monotonic() + delay
                while time.monotonic() < deadline and process.poll() is None:
                    time.sleep(0.02)
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                record.kills += 1
            elif "done" in log.read_bytes()[since:].decode("utf-8", "replace"):
                break  # it emptied the inbox: nothing left to interrupt
        finally:
            process.kill()
            process.wait(timeout=30)
    _let_finish(env, log, finish_limit_s, record)
    return record


def _let_finish(env: Mapping[str, str], log: Path, limit_s: float, record: KillLog) -> None:
    """Start one last worker and let it empty the inbox; count a hang when it does not."""
    since = log.stat().st_size if log.exists() else 0
    process = start_worker(env, log)
    record.restarts += 1
    try:
        process.wait(timeout=limit_s)
    except subprocess.TimeoutExpired:
        record.hangs += 1
    finally:
        process.kill()
        process.wait(timeout=30)
    if "done" not in log.read_bytes()[since:].decode("utf-8", "replace"):
        record.hangs += record.hangs == 0  # the last worker died or never finished


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Audit:
    """Where every input ended up, checked against the pipeline's promises."""

    tried: int = 0
    processed: int = 0  # archived, with rows in exactly one complete run's fields.csv
    quarantined: int = 0
    lost: list[str] = field(default_factory=list)  # in neither archive nor quarantine
    twice: list[str] = field(default_factory=list)  # archived twice, or rows in two runs
    no_results: list[str] = field(default_factory=list)  # archived, rows in no complete run
    half_written: list[str] = field(default_factory=list)  # CSVs that do not parse whole
    left_over: list[str] = field(default_factory=list)  # still in inbox/ or processing/
    complete_runs: int = 0
    incomplete_runs: int = 0

    @property
    def ok(self) -> bool:
        """Every promise kept."""
        problems = (self.lost, self.twice, self.no_results, self.half_written, self.left_over)
        return not any(problems) and self.processed + self.quarantined == self.tried


def _check_csv(path: Path) -> bool:
    """A result CSV is whole: its header, rows of the header's width, a final newline."""
    text = path.read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines()))
    expected = RESULT_COLUMNS.get(path.name)
    header_ok = bool(rows) and (expected is None or ",".join(rows[0]) == expected)
    return header_ok and text.endswith("\n") and all(len(r) == len(rows[0]) for r in rows)


def audit(
    inputs: Mapping[str, str],
    inbox: Path,
    processing: Path,
    archive: Path,
    quarantine: Path,
    output: Path,
) -> Audit:
    """Account for every input after the kill loop.

    Args:
        inputs: content SHA-256 -> name of every file dropped into the inbox.
        inbox: the watched folder.
        processing: claimed files not yet finished.
        archive: processed files (and the ledger).
        quarantine: files that could not be processed.
        output: the run folders.

    Returns:
        The audit; ``audit.ok`` is the verdict.
    """
    result = Audit(tried=len(inputs))
    archived = Counter(sha256_of(p) for p in _files(archive) if p.name != "ledger.tsv")
    quarantined = Counter(
        sha256_of(p) for p in _files(quarantine) if not p.name.endswith(".reason.txt")
    )
    rows_in: Counter[str] = Counter()  # document name -> complete runs with its rows
    for run in sorted(p for p in output.iterdir() if p.is_dir()) if output.is_dir() else []:
        for table in run.glob("*.csv"):
            if not _check_csv(table):
                result.half_written.append(str(table))
        if not (run / "run.json").exists():
            result.incomplete_runs += 1
            continue
        result.complete_runs += 1
        with (run / "fields.csv").open(newline="", encoding="utf-8") as handle:
            rows_in.update({row["document"] for row in csv.DictReader(handle)})
    result.left_over = [str(p) for p in [*_files(inbox), *_files(processing)]]
    for sha, name in inputs.items():
        if archived[sha] + quarantined[sha] == 0:
            result.lost.append(name)
        elif archived[sha] > 1 or rows_in[name] > 1 or (archived[sha] and quarantined[sha]):
            result.twice.append(name)
        elif archived[sha] and rows_in[name] == 0:
            result.no_results.append(name)
        elif archived[sha]:
            result.processed += 1
        else:
            result.quarantined += 1
    return result


def inputs_of(paths: Iterable[Path]) -> dict[str, str]:
    """Content SHA-256 -> file name, for the files about to be dropped."""
    return {sha256_of(p): p.name for p in paths}


if __name__ == "__main__":
    sys.exit(watch_until_empty())
