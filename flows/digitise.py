"""The digitise-forms flow and its one-shot command line: documents in, result CSVs out."""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.futures import as_completed
from prefect.runtime import deployment, flow_run
from prefect.task_runners import ThreadPoolTaskRunner

from flows.runners import with_dask
from ocr_core.cli import EXIT_CODES_HELP, run_cli
from ocr_core.errors import DigitiseError, ExitCode, OutputError
from ocr_core.intake.inbox import Claim, Folders, RunClaims, sha256_of
from ocr_core.intake.sources import confine_parameters, expand_inputs
from ocr_core.reading.document import DocumentResult, digitise_document
from ocr_core.reading.recognisers import AUTO, Recognisers
from ocr_core.results.records import ErrorRow
from ocr_core.results.write import MANIFEST, RunSummary, write_results
from ocr_core.settings import load_settings
from segmentation import load_templates
from segmentation.records import Template


@dataclass(frozen=True, slots=True)
class Job:
    """One document of a run: where it is now, the name people know it by, its slot."""

    path: str
    document: str
    slot: int


@lru_cache(maxsize=4)
def _reader(models_dir: str, model: str, threshold: float | None) -> Recognisers:
    return Recognisers(Path(models_dir), model, threshold)


def _thresholds(model: str, threshold: float | None) -> dict[str, float]:
    """The review threshold each bundle applied (the override, or its pipeline threshold)."""
    reader = _reader(str(load_settings().models_dir), model, threshold)
    return {name: reader.bundle_threshold(name) for name in reader.bundles}


@lru_cache(maxsize=16)
def _templates(paths: tuple[str, ...]) -> tuple[Template, ...]:
    return tuple(load_templates([Path(p) for p in paths]))


@task(name="digitise-document", task_run_name="digitise {job.document}")
def digitise_document_task(
    job: Job,
    run_dir: str,
    template_paths: tuple[str, ...],
    models_dir: str,
    model: str,
    threshold: float | None,
    dpi: int,
) -> DocumentResult | ErrorRow:
    """Read one document; an unreadable document becomes an error row, not a crash."""
    try:
        return digitise_document(
            Path(job.path),
            job.document,
            _templates(template_paths),
            _reader(models_dir, model, threshold),
            Path(run_dir),
            slot=job.slot,
            dpi=dpi,
        )
    except OutputError:
        raise  # a full disk is no fault of the document: the run stops, its inputs stay
    except DigitiseError as e:
        get_run_logger().warning("%s: %s", job.document, e)
        # One line, naming the file as people know it rather than its place in processing/.
        message = " ".join(str(e).replace(job.path, job.document).split())
        return ErrorRow(job.document, e.kind, message, "")


def _run_name() -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = flow_run.get_name() or "local"
    return f"{stamp}-{name}"


@flow(
    name="digitise-forms",
    task_runner=ThreadPoolTaskRunner(max_workers=2),  # type: ignore[arg-type]
    log_prints=True,
)
def digitise_forms(
    input: list[str] | str | None = None,
    output: str | None = None,
    templates: list[str] | None = None,
    template_free: bool = False,
    threshold: float | None = None,
    model: str = AUTO,
    watch_inbox: bool = False,
    show_progress: bool = False,
) -> RunSummary:
    """Digitise documents and write the run's result folder.

    Args:
        input: files and/or folders to read (manual runs; files stay where they are).
        output: folder under which the run's result folder is made (default: the setting).
        templates: template YAML files or folders (default: the templates folder setting).
        template_free: ignore templates and detect fields from the page's lines.
        threshold: review threshold overriding each model bundle's default.
        model: ``auto`` (digit fields to ``digits``, others to ``alnum``) or one bundle name.
        watch_inbox: claim settled files from the inbox (the folder-watch deployment).
        show_progress: print "documents done of total" as documents finish.

    Returns:
        The run's summary; the result files are in ``summary.run_dir``.
    """
    started = datetime.now(UTC)
    settings = load_settings()
    logger = get_run_logger()
    if deployment.get_id():  # parameters from the API, not from the user's own shell
        confine_parameters(settings, _as_list(input), "input")
        confine_parameters(settings, [output] if output else [], "output")
        confine_parameters(settings, templates or [], "templates")
    # Load the models first: a broken bundle stops the run before any input is claimed.
    _reader(str(settings.models_dir), model, threshold)
    template_paths = () if template_free else _template_paths(templates, settings.templates_dir)
    _templates(template_paths)
    run = _run_name()
    run_dir = Path(output or settings.output_dir) / run
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:  # before any input is claimed: the inbox is left as it is
        raise OutputError(
            f"cannot make the run folder ({e.strerror or e})",
            path=run_dir,
            remedy="Check that the output folder is a writable folder with free space",
        ) from e

    if watch_inbox:
        with RunClaims(Folders.from_settings(settings), run) as claims:
            return _digitise_inbox(
                claims, run_dir, template_paths, model, threshold, show_progress, started
            )
    inputs = _as_list(input)
    jobs = [Job(str(p), str(p), i) for i, p in enumerate(expand_inputs([Path(s) for s in inputs]))]
    logger.info("%d document(s) to read into %s", len(jobs), run_dir)
    results, errors = _read_all(jobs, run_dir, template_paths, model, threshold, show_progress)
    return _finish(run_dir, results, errors, [], started, template_paths, model, threshold)


def _as_list(paths: list[str] | str | None) -> list[str]:
    return [paths] if isinstance(paths, str) else list(paths or [])


def _template_paths(templates: list[str] | None, default_dir: Path) -> tuple[str, ...]:
    chosen = [Path(t) for t in templates] if templates else [default_dir]
    return tuple(str(p.resolve()) for p in chosen)


def _read_all(
    jobs: Sequence[Job],
    run_dir: Path,
    template_paths: tuple[str, ...],
    model: str,
    threshold: float | None,
    show_progress: bool,
) -> tuple[list[DocumentResult], list[ErrorRow]]:
    settings = load_settings()
    futures = {
        digitise_document_task.submit(
            job,
            str(run_dir),
            template_paths,
            str(settings.models_dir),
            model,
            threshold,
            settings.pdf_dpi,
        ): job
        for job in jobs
    }
    outcomes: dict[int, DocumentResult | ErrorRow] = {}
    for done, future in enumerate(as_completed(list(futures)), start=1):
        job = futures[future]
        outcome = future.result(raise_on_failure=False)
        if isinstance(outcome, OutputError):
            raise outcome
        if not isinstance(outcome, DocumentResult | ErrorRow):
            # A bug, not bad input: record it against the document and go on with the batch.
            message = " ".join(f"{type(outcome).__name__}: {outcome}".split())
            outcome = ErrorRow(job.document, "internal", message, "")
        outcomes[job.slot] = outcome
        if show_progress:
            print(
                f"\r{done}/{len(jobs)} documents",
                end="\n" if done == len(jobs) else "",
                file=sys.stderr,
            )
    ordered = [outcomes[slot] for slot in sorted(outcomes)]
    return (
        [o for o in ordered if isinstance(o, DocumentResult)],
        [o for o in ordered if isinstance(o, ErrorRow)],
    )


def _digitise_inbox(
    claims: RunClaims,
    run_dir: Path,
    template_paths: tuple[str, ...],
    model: str,
    threshold: float | None,
    show_progress: bool,
    started: datetime,
) -> RunSummary:
    settings = load_settings()
    logger = get_run_logger()
    adopted = claims.adopt_orphans()
    if adopted:
        logger.warning("took over %d file(s) left by a run that stopped: %s", len(adopted), adopted)
    claims.claim_settled(settle_s=settings.settle_s, limit=settings.inbox_batch)
    # A run killed after writing its results but before archiving left files that are done.
    ledger = claims.ledger.entries()
    committed = _committed_inputs(run_dir.parent, claims.adopted_from)
    seen = ledger | committed
    inherited: dict[str, list[Claim]] = defaultdict(list)  # dead run -> its files, done
    first: dict[str, str] = {}  # content hash -> the document of this batch that is read
    jobs: list[Job] = []
    by_name: dict[str, Claim] = {}
    duplicates: list[Claim] = []
    refused: list[ErrorRow] = []
    for slot, path in enumerate(claims.pending()):
        target = str(settings.quarantine_dir / claims.run / path.name)
        if path.is_symlink():
            reason = f"{path.name}: a symbolic link, not followed"
            refused.append(ErrorRow(path.name, "input_file", reason, target))
            continue
        if not path.is_file():  # reading a named pipe would block the run for ever
            reason = f"{path.name}: not a regular file (a folder, pipe, socket or device), not read"
            refused.append(ErrorRow(path.name, "input_file", reason, target))
            continue
        claim = Claim(path.name, path, sha256_of(path))
        if claim.sha256 in seen:
            duplicates.append(claim)
            if claim.sha256 in committed and claim.sha256 not in ledger:
                inherited[committed[claim.sha256]].append(claim)
            logger.info(
                "%s: identical to a file of run %s; not read again", path.name, seen[claim.sha256]
            )
            continue
        seen[claim.sha256] = claims.run  # an identical file later in this batch is a duplicate too
        first[claim.sha256] = path.name
        by_name[path.name] = claim
        jobs.append(Job(str(path), path.name, slot))
    # Only the dead run's manifest says these are done, and only while they sit in the folder
    # adopted from it: should this run die too, the next would adopt them from this run and
    # read them again. The ledger keeps what the manifest said, before anything is read.
    for dead_run, done in inherited.items():
        claims.ledger.record(done, dead_run)
    results, errors = _read_all(jobs, run_dir, template_paths, model, threshold, show_progress)
    # A copy of a file that failed in this batch fails with it, rather than being archived.
    failed = {e.document: e for e in errors}
    copies = [c for c in duplicates if first.get(c.sha256) in failed]
    duplicates = [c for c in duplicates if c not in copies]
    errors += [
        ErrorRow(
            c.name,
            failed[first[c.sha256]].error,
            f"{c.name}: identical to {failed[first[c.sha256]].message}",
            "",
        )
        for c in copies
    ]
    errors = [
        ErrorRow(
            e.document, e.error, e.message, str(settings.quarantine_dir / claims.run / e.document)
        )
        for e in errors
    ] + refused
    skipped = [c.name for c in duplicates]
    inputs = {by_name[r.document].sha256: r.document for r in results}
    summary = _finish(
        run_dir, results, errors, skipped, started, template_paths, model, threshold, inputs
    )
    # Only now that every result file is written do inputs leave processing/.
    claims.archive([by_name[r.document] for r in results] + duplicates)
    for error in errors:
        claims.quarantine(claims.folder / error.document, f"{error.error}: {error.message}")
    return summary


def _committed_inputs(output_root: Path, adopted_from: dict[str, str]) -> dict[str, str]:
    """Content hash -> run, for inputs whose results a run that died afterwards had written."""
    committed: dict[str, str] = {}
    for run in sorted(set(adopted_from.values())):
        try:
            manifest = json.loads((output_root / run / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # no complete results: the files are read again
        committed.update(dict.fromkeys(manifest.get("inputs", {}), run))
    return committed


def _finish(
    run_dir: Path,
    results: Sequence[DocumentResult],
    errors: Sequence[ErrorRow],
    skipped: Sequence[str],
    started: datetime,
    template_paths: tuple[str, ...],
    model: str,
    threshold: float | None,
    inputs: dict[str, str] | None = None,
) -> RunSummary:
    fields = [row for r in results for row in r.fields]
    chars = [row for r in results for row in r.chars]
    summary = RunSummary(
        run_dir=str(run_dir),
        documents=len(results) + len(errors) + len(skipped),
        processed=len(results),
        failed=len(errors),
        skipped=len(skipped),
        pages=sum(r.pages for r in results),
        fields=len(fields),
        characters=len(chars),
        needs_review=sum(c.needs_review for c in chars),
        seconds=(datetime.now(UTC) - started).total_seconds(),
    )
    manifest: dict[str, object] = {
        "started": started.isoformat(timespec="seconds"),
        "templates": list(template_paths),
        "model": model,
        "threshold": threshold,
        "thresholds": _thresholds(model, threshold),
        "skipped": list(skipped),
        "page_templates": {r.document: list(r.templates) for r in results},
        "field_rules": {
            f"{r.document}|{page}|{field}": rules for r in results for page, field, rules in r.rules
        },
        "summary": {row["figure"]: row["value"] for row in summary.table()},
        # Folder watch: the SHA-256 of each file whose results these are (run.json is written
        # last, so its presence means they are complete; see _committed_inputs).
        "inputs": inputs or {},
    }
    write_results(run_dir, fields, chars, errors, manifest)
    create_table_artifact(
        table=summary.table(), key="digitise-forms-summary", description="Run summary"
    )
    create_markdown_artifact(markdown=summary.markdown(), key="digitise-forms-report")
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    """Run digitise-forms once from the command line; return the exit code.

    Exit codes: 0 when every document was processed (characters may still need review), 2 when
    any document failed (listed in ``errors.csv``), or the error's own code when the run could not
    start (3 template, 4 model, 5 configuration, 6 output).
    """
    parser = argparse.ArgumentParser(
        prog="python -m flows.digitise", description=__doc__, epilog=EXIT_CODES_HELP
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="files or folders to read")
    parser.add_argument("--output", required=True, help="folder for the run's result folder")
    parser.add_argument(
        "--template", action="append", dest="templates", help="template YAML or folder"
    )
    parser.add_argument("--template-free", action="store_true", help="detect fields from lines")
    parser.add_argument("--threshold", type=float, help="review threshold (0-1) for every bundle")
    parser.add_argument("--model", default=AUTO, help="auto, digits, alnum or another bundle")
    parser.add_argument(
        "--dask", metavar="ADDRESS", help="run documents on Dask: 'local' or a scheduler address"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    args = parser.parse_args(argv)
    run_flow = with_dask(digitise_forms, args.dask or load_settings().dask_address)

    def run() -> int:
        from flows.prefect_server import local_server

        with local_server():
            summary = run_flow(
                input=args.inputs,
                output=args.output,
                templates=args.templates,
                template_free=args.template_free,
                threshold=args.threshold,
                model=args.model,
                show_progress=sys.stderr.isatty(),
            )
        print(summary.markdown())
        return ExitCode.INPUT_FILE if summary.failed else ExitCode.OK

    return run_cli(run, debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
