"""Run-time folders of a fresh installation under a test's own folder, set in the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

RUN_FOLDERS = ("inbox", "processing", "archive", "quarantine", "output", "reviewed")


def use_run_folders(
    root: Path, monkeypatch: pytest.MonkeyPatch, *, settle_s: float | None = None
) -> dict[str, Path]:
    """Point every run-time folder setting under ``root`` and make the inbox (only it).

    Args:
        root: the test's folder.
        monkeypatch: sets the environment for the test only.
        settle_s: seconds a dropped file must rest before a watch takes it (None: the default).

    Returns:
        Each folder by name.
    """
    folders = {name: root / name for name in RUN_FOLDERS}
    for name, folder in folders.items():
        monkeypatch.setenv(f"DIGITISE_{name.upper()}_DIR", str(folder))
    if settle_s is not None:
        monkeypatch.setenv("DIGITISE_SETTLE_S", str(settle_s))
    folders["inbox"].mkdir(parents=True)
    return folders
