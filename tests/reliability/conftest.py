"""Reliability tests: one temporary Prefect server, run-time folders per test, a hang watchdog."""

from __future__ import annotations

import faulthandler
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.folders import use_run_folders

# A test that runs past this is a hang: dump every thread's stack and end the session.
HANG_LIMIT_S = 900


@pytest.fixture(autouse=True)
def hang_watchdog() -> Iterator[None]:
    """Turn a hang into a failure with stack traces instead of a session that never ends."""
    faulthandler.dump_traceback_later(HANG_LIMIT_S, exit=True, file=sys.stderr)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Run-time folders of a fresh installation under tmp_path, set in the environment."""
    return use_run_folders(tmp_path, monkeypatch)
