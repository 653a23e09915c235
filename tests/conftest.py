"""Shared fixtures: the real datasets folder (skipped, or failed in CI, when absent), Prefect."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocr_core.settings import load_settings


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    """The folder named by DIGITISE_DATASETS_DIR, holding mnist/ and emnist/."""
    folder = load_settings().datasets_dir
    if not (folder / "mnist").is_dir():
        message = f"datasets folder {folder} has no mnist/; set DIGITISE_DATASETS_DIR"
        if os.environ.get("DIGITISE_REQUIRE_DATASETS"):
            pytest.fail(message)
        pytest.skip(message)
    return folder


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[str]:
    """One throw-away Prefect API (temporary SQLite database); yields its URL for subprocesses."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness():
        yield str(PREFECT_API_URL.value())
