"""The choose-review-thresholds flow and its command line: bundles' review thresholds for forms.

What it measures and why is in ``ocr_core/reading/thresholds.py``.

Usage: python -m flows.thresholds [--pages 200] [--random-pages 200] [--seed 0]
    [--target-error 0.0015] [--field-target-error 0.0025] [--templates PATH ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from prefect import flow, get_run_logger

from ocr_core.cli import EXIT_CODES_HELP, run_cli
from ocr_core.errors import ExitCode
from ocr_core.reading.thresholds import FIELD_TARGET_ERROR, TARGET_ERROR, choose_thresholds
from ocr_core.settings import load_settings
from segmentation import load_templates
from segmentation.synthetic import load_glyph_pool


@flow(name="choose-review-thresholds", log_prints=True)
def choose_review_thresholds(
    pages: int = 200,
    seed: int = 0,
    target_error: float = TARGET_ERROR,
    templates: list[str] | None = None,
    random_pages: int = 200,
    field_target_error: float = FIELD_TARGET_ERROR,
) -> dict[str, dict[str, object]]:
    """Choose the bundles' review thresholds for forms (see ``ocr_core.reading.thresholds``).

    Args:
        pages: forms to generate (about 60 characters each).
        seed: seeds the forms.
        target_error: the largest error tolerated among all accepted characters.
        templates: template files or folders (default: the settings' templates folder).
        random_pages: forms drawn in random styles, read besides the ``pages`` in house style.
        field_target_error: the largest share of wrong fields tolerated among accepted fields.

    Returns:
        Per bundle, the ``pipeline`` section written into its ``bundle.json``.
    """
    settings = load_settings()
    chosen = choose_thresholds(
        settings.models_dir,
        load_templates([Path(t) for t in templates] if templates else [settings.templates_dir]),
        load_glyph_pool(settings.require_datasets_dir(), split="val"),
        pages=pages,
        seed=seed,
        target_error=target_error,
        random_pages=random_pages,
        field_target_error=field_target_error,
    )
    logger = get_run_logger()
    for name, section in chosen.items():
        logger.info("%s: pipeline threshold %s (%s)", name, section["threshold"], section)
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    """Choose the review thresholds from the command line; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m flows.thresholds", description=__doc__, epilog=EXIT_CODES_HELP
    )
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target-error", type=float, default=TARGET_ERROR)
    parser.add_argument("--templates", nargs="+", help="template files or folders")
    parser.add_argument(
        "--random-pages", type=int, default=200, help="forms drawn in random styles, besides"
    )
    parser.add_argument(
        "--field-target-error",
        type=float,
        default=FIELD_TARGET_ERROR,
        help="largest share of wrong fields among those not flagged",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    args = parser.parse_args(argv)

    def run() -> int:
        from flows.prefect_server import local_server

        with local_server():
            chosen = choose_review_thresholds(
                args.pages,
                args.seed,
                args.target_error,
                args.templates,
                args.random_pages,
                args.field_target_error,
            )
        for name, section in chosen.items():
            print(f"{name}: {json.dumps(section)}")
        return ExitCode.OK

    return run_cli(run, debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
