"""One environment for every entry point: the project's Prefect home and server, quiet TF."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ocr_core.environment import prefect_toml_variables, quiet_native_logs
from ocr_core.files import write_atomic
from ocr_core.settings import project_root

ROOT = Path(__file__).resolve().parents[2]


def test_prefect_toml_becomes_the_variables_prefect_reads() -> None:
    config = {"api": {"url": "http://127.0.0.1:4200/api"}, "server": {"api": {"port": 4200}}}
    config["server"]["analytics_enabled"] = False  # type: ignore[index]
    assert prefect_toml_variables(config) == {
        "PREFECT_API_URL": "http://127.0.0.1:4200/api",
        "PREFECT_SERVER_API_PORT": "4200",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }


def _environment_of_a_command(cwd: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "TF_CPP"))}
    env |= {"PYTHONPATH": str(ROOT), **extra}
    script = (
        "import flows, os\n"
        "from prefect.settings import get_current_settings as s\n"
        "print(os.environ['PREFECT_HOME'], s().api.url, os.environ['TF_CPP_MIN_LOG_LEVEL'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    home, url, level = done.stdout.split()
    return {"home": home, "url": url, "level": level}


def test_any_folder_gets_the_projects_home_and_server(tmp_path: Path) -> None:
    seen = _environment_of_a_command(tmp_path)
    assert seen == {
        "home": str(project_root() / ".prefect"),
        "url": "http://127.0.0.1:4200/api",  # from the project's prefect.toml
        "level": "3",
    }
    # What the user set explicitly wins.
    mine = _environment_of_a_command(tmp_path, PREFECT_API_URL="http://127.0.0.1:9/api")
    assert mine["url"] == "http://127.0.0.1:9/api"


def test_tensorflows_native_lines_are_held_back_and_the_rest_passed_on(
    capfd: pytest.CaptureFixture[str],
) -> None:
    with quiet_native_logs():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written")
        os.write(2, b" to STDERR\n")
        os.write(2, b"E0000 00:00:1796520017.411435   17803 cuda_platform.cc:52] failed call\n")
        os.write(2, b"a real problem\n")
    assert capfd.readouterr().err == "a real problem\n"


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_result_files_follow_the_umask(tmp_path: Path, mask: int) -> None:
    previous = os.umask(mask)
    try:
        write_atomic(tmp_path / "fields.csv", b"a,b\n")
    finally:
        os.umask(previous)
    assert (tmp_path / "fields.csv").stat().st_mode & 0o777 == 0o666 & ~mask
