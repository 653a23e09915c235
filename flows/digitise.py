"""The digitise-forms flow and its one-shot command line: documents in, result CSVs out."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.futures import as_completed
from prefect.runtime import deployment, flow_run
from prefect.task_runners import ThreadPoolTaskRunner

from flows.runners import with_dask
from ocr_core.cli import EXIT_CODES_HELP, run_cli
from ocr_core.errors import DigitiseError, ExitCode, OutputError
from ocr_core.intake.inbox import Folders, RunClaims
from ocr_core.intake.plan import (
    InboxPlan,
    Job,
    manual_jobs,
    plan_inbox,
    record_inherited,
    settle_batch,
    settle_plan,
)
from ocr_core.intake.sources import confine_parameters
from ocr_core.reading.context import RunContext, open_run
from ocr_core.reading.document import DocumentResult, digitise_document
from ocr_core.reading.recognisers import AUTO
from ocr_core.results.records import ErrorRow
from ocr_core.results.write import RunSummary, write_run
from ocr_core.settings import load_settings


@task(name="digitise-document", task_run_name="digitise {job.document}")
def digitise_document_task(job: Job, context: RunContext) -> DocumentResult | ErrorRow:
    """Read one document; an unreadable document becomes an error row, not a crash."""
    try:
        return digitise_document(
            Path(job.path),
            job.document,
            context.templates(),
            context.recognisers(),
            context.run_dir,
            slot=job.slot,
            dpi=context.settings.pdf_dpi,
        )
    except OutputError:
        raise  # a full disk is no fault of the document: the run stops, its inputs stay
    except DigitiseError as e:
        get_run_logger().warning("%s: %s", job.document, e)
        # One line, naming the file as people know it rather than its place in processing/.
        message = " ".join(str(e).replace(job.path, job.document).split())
        return ErrorRow(job.document, e.kind, message, "")


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
    inputs = [input] if isinstance(input, str) else list(input or [])
    if deployment.get_id():  # parameters from the API, not from the user's own shell
        confine_parameters(settings, inputs, "input")
        confine_parameters(settings, [output] if output else [], "output")
        confine_parameters(settings, templates or [], "templates")
    context = open_run(
        settings,
        Path(output or settings.output_dir) / _run_name(),
        templates=templates,
        template_free=template_free,
        model=model,
        threshold=threshold,
        show_progress=show_progress,
        started=started,
    )
    if watch_inbox:
        return _digitise_inbox(context)
    jobs = manual_jobs(inputs)
    get_run_logger().info("%d document(s) to read into %s", len(jobs), context.run_dir)
    results, errors = _read_all(jobs, context)
    return _publish(write_run(context, results, errors))


def _digitise_inbox(context: RunContext) -> RunSummary:
    """Adopt, claim, plan, read, write the results, and only then settle the inputs."""
    settings = context.settings
    with RunClaims(Folders.from_settings(settings), context.run) as claims:
        _adopt(claims)
        claims.claim_settled(settle_s=settings.settle_s, limit=settings.inbox_batch)
        plan = plan_inbox(claims, context.run_dir.parent, settings.quarantine_dir)
        _log_duplicates(plan)
        record_inherited(claims, plan)
        results, errors = _read_all(plan.jobs, context)
        batch = settle_plan(plan, results, errors, settings.quarantine_dir)
        summary = _publish(
            write_run(context, batch.results, batch.errors, batch.skipped, batch.inputs)
        )
        settle_batch(claims, batch)  # only now that every result file is written
        return summary


def _run_name() -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = flow_run.get_name() or "local"
    return f"{stamp}-{name}"


def _adopt(claims: RunClaims) -> None:
    adopted = claims.adopt_orphans()
    if adopted:
        get_run_logger().warning(
            "took over %d file(s) left by a run that stopped: %s", len(adopted), adopted
        )


def _log_duplicates(plan: InboxPlan) -> None:
    logger = get_run_logger()
    for duplicate in plan.duplicates:
        logger.info(
            "%s: identical to a file of run %s; not read again", duplicate.claim.name, duplicate.run
        )


def _read_all(
    jobs: Sequence[Job], context: RunContext
) -> tuple[list[DocumentResult], list[ErrorRow]]:
    """Read the jobs as tasks; results and errors in the jobs' order."""
    futures = {digitise_document_task.submit(job, context): job for job in jobs}
    outcomes: dict[int, DocumentResult | ErrorRow] = {}
    for done, future in enumerate(as_completed(list(futures)), start=1):
        job = futures[future]
        outcomes[job.slot] = _outcome(job, future.result(raise_on_failure=False))
        if context.show_progress:
            end = "\n" if done == len(jobs) else ""
            print(f"\r{done}/{len(jobs)} documents", end=end, file=sys.stderr)
    ordered = [outcomes[slot] for slot in sorted(outcomes)]
    return (
        [o for o in ordered if isinstance(o, DocumentResult)],
        [o for o in ordered if isinstance(o, ErrorRow)],
    )


def _outcome(job: Job, outcome: object) -> DocumentResult | ErrorRow:
    """A task's result; a full disk stops the run, and a bug becomes the document's error."""
    if isinstance(outcome, OutputError):
        raise outcome
    if isinstance(outcome, DocumentResult | ErrorRow):
        return outcome
    # A bug, not bad input: record it against the document and go on with the batch.
    message = " ".join(f"{type(outcome).__name__}: {outcome}".split())
    return ErrorRow(job.document, "internal", message, "")


def _publish(summary: RunSummary) -> RunSummary:
    """Show the written run's summary as Prefect artifacts."""
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
