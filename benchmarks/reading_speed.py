"""Time the reading of pages in process: segmentation alone, then whole documents.

    python -m benchmarks.reading_speed [PAGE ...] [--template PATH] [--copies 4]

Defaults: the ``hsf-dev`` pages under ``$DIGITISE_DATASETS_DIR`` and the NIST HSF template.
``benchmarks.real_forms --batch`` times the product (Prefect server, task runs, result files),
whose figures move with everything else the machine does; this one times our own code only:

- segmentation per page, one thread (``segment_page``: registration, line removal, cutting);
- whole documents (``digitise_document``: segmentation, the models, crops and rows written),
  ``--copies`` copies of every page, read by one thread and by two (as the flow's task runner
  reads them), after one warm-up document.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from segmentation.records import Template

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    """Print seconds and CPU seconds per page."""
    hsf = Path(os.environ.get("DIGITISE_DATASETS_DIR", "data/datasets")) / "hsf-dev" / "pages"
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pages", nargs="*", type=Path, help="page images (default: hsf-dev)")
    parser.add_argument("--template", type=Path, default=ROOT / "data/templates/nist-hsf.yaml")
    parser.add_argument("--copies", type=int, default=4, help="copies of every page to read")
    args = parser.parse_args(argv)
    pages = args.pages or sorted(hsf.glob("*.png"))
    if not pages:
        sys.exit(f"no pages given, and none in {hsf}")

    from segmentation import iter_pages, load_templates

    templates = load_templates([args.template])
    _time_segmentation([image for page in pages for image in iter_pages(page)], templates)
    _time_documents(pages * args.copies, templates)
    return 0


def _time_segmentation(images: list[np.ndarray], templates: list[Template]) -> None:
    from segmentation import segment_page

    segment_page(images[0], templates)
    started, cpu = time.perf_counter(), time.process_time()
    for image in images:
        segment_page(image, templates)
    wall, used = time.perf_counter() - started, time.process_time() - cpu
    count = len(images)
    print(f"segmentation, one thread: {wall / count:.3f} s a page ({used / count:.3f} s CPU)")


def _time_documents(batch: list[Path], templates: list[Template]) -> None:
    from ocr_core.reading.document import digitise_document
    from ocr_core.reading.recognisers import load_recognisers

    recognisers = load_recognisers(str(ROOT / "data" / "models"), "auto", None)
    with tempfile.TemporaryDirectory() as out:
        digitise_document(batch[0], "warm-up", templates, recognisers, Path(out), slot=0)
        for threads in (1, 2):
            started, cpu = time.perf_counter(), time.process_time()
            with ThreadPoolExecutor(threads) as pool:
                jobs = [
                    pool.submit(digitise_document, page, page.stem, templates, recognisers,
                                Path(out) / str(threads), slot=slot)
                    for slot, page in enumerate(batch, start=1)
                ]  # fmt: skip
                for job in jobs:
                    job.result()
            wall, used = time.perf_counter() - started, time.process_time() - cpu
            print(
                f"documents, {threads} thread(s), {len(batch)} pages: {wall / len(batch):.3f} s a "
                f"page ({used / len(batch):.3f} s CPU, load average {os.getloadavg()[0]:.1f})"
            )


if __name__ == "__main__":
    sys.exit(main())
