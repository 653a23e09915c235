"""Review a run: the apply-review flow, the review station (serve) and the queue (pending)."""

from __future__ import annotations

import argparse
import getpass
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from ocr_core.cli import EXIT_CODES_HELP, run_cli
from ocr_core.errors import ConfigurationError, ExitCode, InputFileError
from ocr_core.review.apply import ReviewOutcome, apply_review
from ocr_core.review.queue import pending_runs
from ocr_core.settings import load_settings

COMMANDS = ("apply", "serve", "pending")


@flow(name="apply-review", log_prints=True)
def apply_review_flow(
    run_dir: str, review_csv: str | None = None, reviewer: str = ""
) -> ReviewOutcome:
    """Apply a run's review sheets (``review_fields.csv`` and ``review.csv``) to its results.

    Args:
        run_dir: a digitise-forms result folder.
        review_csv: the per-character review file (default: ``run_dir/review.csv``).
        reviewer: who answered, where the sheets do not say.

    Returns:
        What changed; ``fields_reviewed.csv`` and ``changes.csv`` are written in ``run_dir``.
    """
    folder = Path(run_dir)
    outcome = apply_review(
        folder,
        Path(review_csv) if review_csv else folder / "review.csv",
        load_settings().reviewed_dir,
        reviewer=reviewer,
    )
    get_run_logger().info("%s", outcome.report())
    create_markdown_artifact(key="apply-review-report", markdown=_markdown(outcome))
    return outcome


def _markdown(outcome: ReviewOutcome) -> str:
    lines = outcome.report().splitlines()
    return "# apply-review\n\n" + "\n".join(f"- {line}" for line in lines) + "\n"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m flows.review", description=__doc__, epilog=EXIT_CODES_HELP
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", required=True)
    apply = sub.add_parser("apply", help="apply a run's review (the apply-review flow)")
    apply.add_argument("run_dir", help="the digitise-forms result folder")
    apply.add_argument("--review-csv", help="the per-character sheet (default RUN_DIR/review.csv)")
    apply.add_argument("--reviewer", default=getpass.getuser(), help="who reviewed")
    serve = sub.add_parser("serve", help="review a run in the browser")
    serve.add_argument(
        "run_dir", nargs="?", help="the run (default: the oldest with fields to review)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="port (0: any free one)")
    serve.add_argument("--reviewer", default=getpass.getuser(), help="who reviews")
    sub.add_parser("pending", help="list the runs with fields to review, oldest first")
    for command in (apply, serve):
        command.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``apply``, ``serve`` or ``pending`` from the command line; return the exit code."""
    args_in = list(sys.argv[1:] if argv is None else argv)
    if args_in and args_in[0] not in COMMANDS and not args_in[0].startswith("-"):
        args_in.insert(0, "apply")  # the older form: python -m flows.review RUN_DIR
    args = _parser().parse_args(args_in)
    body = {"apply": _apply, "serve": _serve, "pending": _pending}[args.command]
    return run_cli(lambda: body(args), debug=args.debug)


def _apply(args: argparse.Namespace) -> int:
    from flows.prefect_server import local_server

    with local_server():
        outcome = apply_review_flow(args.run_dir, args.review_csv, args.reviewer)
    print(outcome.report())
    # Some answers were refused (each named above): the sheet needs another look.
    return ExitCode.INPUT_FILE if outcome.problems else ExitCode.OK


def _serve(args: argparse.Namespace) -> int:
    from ocr_core.review.server import serve
    from ocr_core.review.station import ReviewRun, ensure_sheet

    run_dir = Path(args.run_dir) if args.run_dir else _oldest_pending()
    if not ensure_sheet(run_dir):
        raise InputFileError(
            "not a finished digitise-forms run (no run.json or fields.csv)",
            path=run_dir,
            remedy="Name a run folder; python -m flows.review pending lists them",
        )
    port = _usable_port(args.host, args.port)
    run = ReviewRun(run_dir)
    answered, total = run.progress()
    print(f"Reviewing {run_dir} ({answered} of {total} fields answered)")
    print(f"Open http://{args.host}:{port}/ in a browser (Ctrl-C stops)", flush=True)
    settings = load_settings()
    serve(
        run, reviewed_dir=settings.reviewed_dir, reviewer=args.reviewer, host=args.host, port=port
    )
    return ExitCode.OK


def _oldest_pending() -> Path:
    runs = pending_runs(load_settings().output_dir)
    if not runs:
        raise InputFileError(
            "no run has fields to review", path=load_settings().output_dir, remedy="Name a run"
        )
    return runs[0].run_dir


def _usable_port(host: str, port: int) -> int:
    """``port`` when it is free (any free one for 0), else a one-line error naming the fix."""
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as e:
            raise ConfigurationError(
                f"cannot listen on {host}:{port} ({e.strerror or e})",
                remedy="Pass --port with a free port, or --port 0 for any free one",
            ) from e
        return int(probe.getsockname()[1])


def _pending(args: argparse.Namespace) -> int:
    output = load_settings().output_dir
    runs = pending_runs(output)
    for run in runs:
        print(f"{run.run_dir}\t{run.started}\t{run.pending} of {run.total} fields to review")
    if not runs:
        print(f"no run under {output} has fields to review")
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
