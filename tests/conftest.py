"""Shared fixtures: the real datasets folder, skipped (or failed in CI) when it is absent."""

from __future__ import annotations

import os
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
