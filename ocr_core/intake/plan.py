"""Plan a run's batch: the documents to read, and for the inbox the files not to read again.

A manual run reads every document its inputs name. A folder-watch run reads each file it holds
once: a file identical to one archived before (the ledger), to one whose results a run that died
had written (its ``run.json``), or to one earlier in the batch, is a duplicate, archived unread;
a link or a file that is not a regular file is refused unread. After the batch is read, a copy
of a file that failed fails with it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ocr_core.intake.inbox import Claim, RunClaims, sha256_of
from ocr_core.intake.sources import expand_inputs, sort_inputs
from ocr_core.reading.document import DocumentResult
from ocr_core.results.records import UNSUPPORTED, ErrorRow
from ocr_core.results.write import MANIFEST


@dataclass(frozen=True, slots=True)
class Job:
    """One document of a run: where it is now, the name people know it by, its slot."""

    path: str
    document: str
    slot: int


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A claimed file identical to one already read: the file and the run that read its twin."""

    claim: Claim
    run: str


@dataclass(frozen=True, slots=True)
class InboxPlan:
    """What a folder-watch run does with the files it holds, decided before anything is read."""

    run: str
    jobs: tuple[Job, ...]
    claims: dict[str, Claim]  # document -> its claim, for the files that are read
    duplicates: tuple[Duplicate, ...]
    refused: tuple[ErrorRow, ...]  # links and non-regular files, quarantined unread
    first: dict[str, str] = field(default_factory=dict)  # content hash -> the document read
    inherited: dict[str, list[Claim]] = field(default_factory=dict)  # dead run -> files it did


@dataclass(frozen=True, slots=True)
class Batch:
    """A batch once read: what goes to archive, what to quarantine, and what run.json records."""

    results: tuple[DocumentResult, ...]
    errors: tuple[ErrorRow, ...]  # each with where it is quarantined to
    archived: tuple[Claim, ...]  # the files read, then the duplicates
    skipped: tuple[str, ...]  # the duplicates' names
    inputs: dict[str, str]  # content hash -> document, for the files whose results these are


def manual_jobs(inputs: Sequence[str]) -> list[Job]:
    """The documents a manual run's files and folders name, each a job (see ``expand_inputs``)."""
    return [Job(str(p), str(p), i) for i, p in enumerate(expand_inputs([Path(s) for s in inputs]))]


def manual_batch(inputs: Sequence[str]) -> tuple[list[Job], list[ErrorRow]]:
    """A manual run's jobs, and an ``unsupported`` error row for each file of a folder skipped."""
    documents, skipped = sort_inputs([Path(s) for s in inputs])
    jobs = [Job(str(p), str(p), i) for i, p in enumerate(documents)]
    return jobs, [ErrorRow(str(p), UNSUPPORTED, reason, "") for p, reason in skipped]


def committed_inputs(output_root: Path, adopted_from: dict[str, str]) -> dict[str, str]:
    """Content hash -> run, for inputs whose results a run that died afterwards had written."""
    committed: dict[str, str] = {}
    for run in sorted(set(adopted_from.values())):
        try:
            manifest = json.loads((output_root / run / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # no complete results: the files are read again
        committed.update(dict.fromkeys(manifest.get("inputs", {}), run))
    return committed


def refusal(path: Path, quarantined_to: Path) -> ErrorRow | None:
    """The error row of a file that must not be read (a link, or not a regular file), or None."""
    if path.is_symlink():
        reason = f"{path.name}: a symbolic link, not followed"
    elif not path.is_file():  # reading a named pipe would block the run for ever
        reason = f"{path.name}: not a regular file (a folder, pipe, socket or device), not read"
    else:
        return None
    return ErrorRow(path.name, "input_file", reason, str(quarantined_to))


def plan_inbox(claims: RunClaims, output_root: Path, quarantine_dir: Path) -> InboxPlan:
    """Decide which of the run's files to read, which are duplicates, which are refused.

    Args:
        claims: the run's hold on the watch, its files already claimed and adopted.
        output_root: the folder of run folders (where a dead run's ``run.json`` would be).
        quarantine_dir: the quarantine root (refused files are named under ``<run>/``).

    Returns:
        The plan; nothing has been read or moved.
    """
    ledger = claims.ledger.entries()
    # A run killed after writing its results but before archiving left files that are done.
    committed = committed_inputs(output_root, claims.adopted_from)
    seen = ledger | committed
    jobs: list[Job] = []
    by_name: dict[str, Claim] = {}
    duplicates: list[Duplicate] = []
    refused: list[ErrorRow] = []
    first: dict[str, str] = {}
    inherited: dict[str, list[Claim]] = defaultdict(list)
    for slot, path in enumerate(claims.pending()):
        refused_row = refusal(path, quarantine_dir / claims.run / path.name)
        if refused_row is not None:
            refused.append(refused_row)
            continue
        claim = Claim(path.name, path, sha256_of(path))
        if claim.sha256 in seen:
            duplicates.append(Duplicate(claim, seen[claim.sha256]))
            if claim.sha256 in committed and claim.sha256 not in ledger:
                inherited[committed[claim.sha256]].append(claim)
            continue
        seen[claim.sha256] = claims.run  # an identical file later in this batch is a duplicate too
        first[claim.sha256] = path.name
        by_name[path.name] = claim
        jobs.append(Job(str(path), path.name, slot))
    return InboxPlan(
        claims.run, tuple(jobs), by_name, tuple(duplicates), tuple(refused), first, dict(inherited)
    )


def record_inherited(claims: RunClaims, plan: InboxPlan) -> None:
    """Write to the ledger the files a dead run's ``run.json`` says are done, before reading.

    Only the dead run's manifest says these are done, and only while they sit in the folder
    adopted from it: should this run die too, the next would adopt them from this run and read
    them again. The ledger keeps what the manifest said.
    """
    for dead_run, done in plan.inherited.items():
        claims.ledger.record(done, dead_run)


def settle_plan(
    plan: InboxPlan,
    results: Sequence[DocumentResult],
    errors: Sequence[ErrorRow],
    quarantine_dir: Path,
) -> Batch:
    """Fold what was read into the plan: a copy of a failed file fails with it.

    Args:
        plan: the batch's plan.
        results: the documents read.
        errors: the documents that failed (without where they are quarantined to).
        quarantine_dir: the quarantine root; the run's files go under ``<run>/``.
    """
    failed = {e.document: e for e in errors}
    copies = [d.claim for d in plan.duplicates if plan.first.get(d.claim.sha256) in failed]
    duplicates = [d.claim for d in plan.duplicates if d.claim not in copies]
    for copy in copies:
        original = failed[plan.first[copy.sha256]]
        message = f"{copy.name}: identical to {original.message}"
        errors = [*errors, ErrorRow(copy.name, original.error, message, "")]
    placed = [
        ErrorRow(e.document, e.error, e.message, str(quarantine_dir / plan.run / e.document))
        for e in errors
    ]
    return Batch(
        results=tuple(results),
        errors=(*placed, *plan.refused),
        archived=(*(plan.claims[r.document] for r in results), *duplicates),
        skipped=tuple(c.name for c in duplicates),
        inputs={plan.claims[r.document].sha256: r.document for r in results},
    )


def settle_batch(claims: RunClaims, batch: Batch) -> None:
    """Archive the files read and their duplicates, quarantine the failed ones with a reason.

    Call only once every result file of the run is written: until then the inputs stay in
    ``processing/``, and a run that dies leaves them for the next to take over.
    """
    claims.archive(list(batch.archived))
    for error in batch.errors:
        claims.quarantine(claims.folder / error.document, f"{error.error}: {error.message}")
