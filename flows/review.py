"""The apply-review flow: fold a reviewer's corrections back into a run's results."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from ocr_core.cli import EXIT_CODES_HELP, run_cli
from ocr_core.errors import ExitCode
from ocr_core.review.apply import ReviewOutcome, apply_review
from ocr_core.settings import load_settings


@flow(name="apply-review", log_prints=True)
def apply_review_flow(run_dir: str, review_csv: str | None = None) -> ReviewOutcome:
    """Apply a corrected ``review.csv`` to the run in ``run_dir``.

    Args:
        run_dir: a digitise-forms result folder.
        review_csv: the corrected review file (default: ``run_dir/review.csv``).

    Returns:
        What changed; ``fields_reviewed.csv`` and ``changes.csv`` are written in ``run_dir``.
    """
    folder = Path(run_dir)
    outcome = apply_review(
        folder,
        Path(review_csv) if review_csv else folder / "review.csv",
        load_settings().reviewed_dir,
    )
    get_run_logger().info(
        "%d character(s) reviewed, %d changed; %d new training example(s)",
        outcome.reviewed,
        outcome.changed,
        outcome.examples_added,
    )
    create_markdown_artifact(
        key="apply-review-report",
        markdown=(
            f"# apply-review\n\n{outcome.reviewed} characters reviewed, {outcome.changed} changed "
            f"in {outcome.fields_changed} fields; {outcome.still_failing} fields still fail their "
            f"checks; {outcome.examples_added} new training examples.\n\n"
            f"Reviewed values: `{outcome.fields_reviewed_csv}`\n"
        ),
    )
    return outcome


def main(argv: Sequence[str] | None = None) -> int:
    """Apply a review from the command line; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m flows.review", description=__doc__, epilog=EXIT_CODES_HELP
    )
    parser.add_argument("run_dir", help="the digitise-forms result folder")
    parser.add_argument(
        "--review-csv", help="the corrected review file (default: RUN_DIR/review.csv)"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    args = parser.parse_args(argv)

    def run() -> int:
        from flows.prefect_server import local_server

        with local_server():
            outcome = apply_review_flow(args.run_dir, args.review_csv)
        print(f"{outcome.changed} of {outcome.reviewed} characters changed")
        print(f"reviewed values: {outcome.fields_reviewed_csv}")
        return ExitCode.OK

    return run_cli(run, debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
