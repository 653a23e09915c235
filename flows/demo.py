"""The README's main job: start the local Prefect server and digitise the sample forms."""

from __future__ import annotations

import sys
from pathlib import Path

from flows.digitise import run_digitise_forms
from flows.prefect_server import local_server, quiet_console
from ocr_core.cli import run_cli
from ocr_core.reading.context import prepare_run
from ocr_core.results.report import read_report
from ocr_core.settings import load_settings


def main() -> int:
    """Digitise ``data/samples`` on the local server, print where the results are; exit code."""
    return run_cli(_demo, debug="--debug" in sys.argv[1:])


def _demo() -> int:
    settings = load_settings()
    samples = settings.data_dir / "samples"
    # The models load and the segmentation workers start while the server starts.
    with local_server(while_starting=lambda: prepare_run(settings)) as url:
        print(f"Prefect server answering at {url}")
        print(f"Digitising the sample forms in {samples}, templates {settings.templates_dir}")
        quiet_console("--verbose" in sys.argv[1:])
        summary = run_digitise_forms(
            input=[str(samples)],
            output=str(settings.output_dir),
            templates=[str(settings.templates_dir)],
            show_progress=sys.stderr.isatty(),
        )
    run_dir = Path(summary.run_dir)
    print()
    print(read_report(summary).text())
    for name in (
        "fields.csv",
        "characters.csv",
        "review.csv",
        "review_fields.csv",
        "review.html",
        "errors.csv",
    ):
        print(f"  {run_dir / name}")
    print(f"\nOpen {run_dir / 'review.html'} in a browser to see what needs review.")
    print(
        "The demo stopped the server it started. To browse this run in the Prefect UI, run"
        f" `make serve` and open {url.removesuffix('/api')} (Runs, then digitise-forms)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
