"""The per-document tasks run on a Dask LocalCluster of two worker processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.digitise import digitise_forms
from flows.runners import with_dask
from ocr_core.results.csvfiles import read_csv_rows

SAMPLES = Path("data/samples")


@pytest.mark.usefixtures("prefect_harness")
def test_documents_run_on_a_local_dask_cluster(tmp_path: Path) -> None:
    inputs = [str(SAMPLES / "scan-001.png"), str(SAMPLES / "scan-002.png")]
    on_dask = with_dask(digitise_forms, "local", workers=2)
    summary = on_dask(input=inputs, output=str(tmp_path), templates=["data/templates"])
    assert (summary.processed, summary.failed) == (2, 0)
    documents = {r["document"] for r in read_csv_rows(Path(summary.run_dir) / "fields.csv")}
    assert documents == set(inputs)
