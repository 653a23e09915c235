"""The digitise-forms flow: documents in, result CSVs out, and a run state that says how it went.

A run whose documents all went through ends ``Completed``; one with a failed document ends
``Failed`` (its results still written, its summary the state's data), so that the Prefect UI shows
it red and automations can alert on it. A folder-watch run that finds nothing to take ends at
once in ``Completed`` named ``Nothing to do``, with no result folder and no artifacts.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.futures import PrefectFuture, as_completed
from prefect.runtime import deployment, flow_run
from prefect.states import Completed, Failed, State
from prefect.task_runners import ThreadPoolTaskRunner

from ocr_core.errors import DigitiseError, OutputError
from ocr_core.intake.inbox import Folders, RunClaims, has_work, mark_incomplete
from ocr_core.intake.plan import (
    InboxPlan,
    Job,
    manual_batch,
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
from ocr_core.results.report import RunReport, build_report
from ocr_core.results.write import RunSummary, write_run
from ocr_core.settings import load_settings

NOTHING_TO_DO = "Nothing to do"


@task(name="digitise-document", task_run_name="digitise {job.document}")
def digitise_document_task(job: Job, context: RunContext) -> DocumentResult | ErrorRow:
    """Read one document; an unreadable one is a Failed task whose data is its error row."""
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
        # One line, naming the file as people know it rather than its place in processing/.
        message = " ".join(str(e).replace(job.path, job.document).split())
        row = ErrorRow(job.document, e.kind, message, "")
        return cast(ErrorRow, Failed(data=row, message=message))  # the data is the row


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
        show_progress: show a progress bar (done, rate, time left) as documents finish.

    Returns:
        The run's summary (the result files are in ``summary.run_dir``), as the data of a
        ``Completed`` state, or of a ``Failed`` one when a document failed. A folder-watch run
        that found nothing to take returns an empty summary (no ``run_dir``) in a ``Completed``
        state named ``Nothing to do``.
    """
    started = datetime.now(UTC)
    settings = load_settings()
    inputs = [input] if isinstance(input, str) else list(input or [])
    if deployment.get_id():  # parameters from the API, not from the user's own shell
        confine_parameters(settings, inputs, "input")
        confine_parameters(settings, [output] if output else [], "output")
        confine_parameters(settings, templates or [], "templates")
    if watch_inbox and not has_work(Folders.from_settings(settings), settings.settle_s):
        # Before any model loads or folder is made: a poll of an empty inbox costs nothing.
        nothing = RunSummary("", 0, 0, 0, 0, 0, 0, 0, 0, 0.0)  # no result folder
        message = "no settled file in the inbox"
        return cast(RunSummary, Completed(data=nothing, name=NOTHING_TO_DO, message=message))
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
    jobs, unsupported = manual_batch(inputs)
    get_run_logger().info("%d document(s) to read into %s", len(jobs), context.run_dir)
    results, errors = _read_all(jobs, context)
    errors = [*errors, *unsupported]
    return _end(_publish(write_run(context, results, errors), results, errors))


def _digitise_inbox(context: RunContext) -> RunSummary:
    """Adopt, claim, plan, read, write the results, and only then settle the inputs."""
    settings = context.settings
    with RunClaims(Folders.from_settings(settings), context.run) as claims:
        taken_over = _adopt(claims, context)
        claims.claim_settled(settle_s=settings.settle_s, limit=settings.inbox_batch)
        plan = plan_inbox(claims, context.run_dir.parent, settings.quarantine_dir)
        _log_duplicates(plan)
        record_inherited(claims, plan)
        results, errors = _read_all(plan.jobs, context)
        batch = settle_plan(plan, results, errors, settings.quarantine_dir)
        summary = write_run(context, batch.results, batch.errors, batch.skipped, batch.inputs)
        settle_batch(claims, batch)  # only now that every result file is written
        return _end(_publish(summary, batch.results, batch.errors, taken_over))


def _end(report: RunReport) -> RunSummary:
    """The run's final state: Completed, or Failed (not green) when a document failed.

    The state is what the flow returns; Prefect hands its data (the summary) to the caller.
    """
    summary = report.summary
    if not summary.failed:
        return cast(RunSummary, Completed(data=summary, message=_headline(summary)))
    failed = ", ".join(e.document for e in report.failed[:5])
    more = f" and {len(report.failed) - 5} more" if len(report.failed) > 5 else ""
    message = f"{summary.failed} document(s) failed ({failed}{more}); {_headline(summary)}"
    return cast(RunSummary, Failed(data=summary, message=message))


def _headline(summary: RunSummary) -> str:
    return (
        f"{summary.processed} of {summary.documents} read, {summary.needs_review} character(s) "
        f"to review; results in {summary.run_dir}"
    )


def _run_name() -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = flow_run.get_name() or "local"
    return f"{stamp}-{name}"


def _adopt(claims: RunClaims, context: RunContext) -> list[str]:
    """Take over the files of runs that died; mark their half-made result folders."""
    adopted = claims.adopt_orphans()
    if not adopted:
        return []
    dead = set(claims.adopted_from.values())
    marked = mark_incomplete(context.run_dir.parent, dead, context.run)
    get_run_logger().warning(
        "took over %d file(s) left by run(s) that stopped (%s); incomplete result folders "
        "marked: %s",
        len(adopted),
        ", ".join(sorted(dead)),
        ", ".join(marked) or "none",
    )
    return sorted(dead)


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
    with _progress(len(jobs), context.show_progress) as advance:
        for future in as_completed(list(futures)):
            job = futures[future]
            outcomes[job.slot] = _outcome(job, future)
            advance()
    ordered = [outcomes[slot] for slot in sorted(outcomes)]
    return (
        [o for o in ordered if isinstance(o, DocumentResult)],
        [o for o in ordered if isinstance(o, ErrorRow)],
    )


@contextmanager
def _progress(total: int, show: bool) -> Iterator[Any]:
    """A progress bar on standard error: documents done, rate, time left."""
    if not show or not total:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("documents"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task_id = bar.add_task("read", total=total, rate="")

        def advance() -> None:
            bar.advance(task_id)
            speed = bar.tasks[0].speed
            bar.update(task_id, rate=f"{speed:.2f} doc/s" if speed else "")

        yield advance


def _outcome(job: Job, future: PrefectFuture[Any]) -> DocumentResult | ErrorRow:
    """A task's result; a full disk stops the run, and a bug becomes the document's error."""
    outcome = future.result(raise_on_failure=False)
    if isinstance(outcome, OutputError):
        raise outcome
    if isinstance(outcome, DocumentResult | ErrorRow):
        return outcome
    # A bug, not bad input: record it against the document and go on with the batch.
    message = " ".join(f"{type(outcome).__name__}: {outcome}".split())
    return ErrorRow(job.document, "internal", message, "")


def _publish(
    summary: RunSummary,
    results: Sequence[DocumentResult],
    errors: Sequence[ErrorRow],
    taken_over: Sequence[str] = (),
) -> RunReport:
    """Show the written run's summary, failed documents and fields to review as artifacts."""
    fields = [row for r in results for row in r.fields]
    report = build_report(summary, errors, fields, taken_over)
    create_table_artifact(
        table=summary.table(), key="digitise-forms-summary", description="Run summary"
    )
    create_markdown_artifact(markdown=report.markdown(), key="digitise-forms-report")
    return report


def run_digitise_forms(**parameters: Any) -> RunSummary:
    """Run the flow in this process and return its summary whether or not a document failed.

    Calling ``digitise_forms`` directly raises when the run ends ``Failed``; this returns the
    summary of such a run (its failures are in ``summary.failed``) and raises only when the run
    could not be made (a broken model or template, an unwritable output: the error itself).
    """
    state: State[Any] = digitise_forms(**parameters, return_state=True)
    outcome = state.result(raise_on_failure=False)
    if isinstance(outcome, BaseException):
        raise outcome
    return cast(RunSummary, outcome)
