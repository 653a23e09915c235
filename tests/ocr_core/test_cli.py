"""One CLI runner: every way a command ends maps to an exit code and one line."""

from __future__ import annotations

import pytest

from ocr_core.cli import run_cli
from ocr_core.errors import ExitCode, TemplateError


def test_a_clean_run_returns_its_own_code() -> None:
    assert run_cli(lambda: None) == ExitCode.OK
    assert run_cli(lambda: 2) == ExitCode.INPUT_FILE


def test_a_pipeline_error_is_one_line_with_its_code(capsys: pytest.CaptureFixture[str]) -> None:
    def fail() -> None:
        raise TemplateError("no such field", path="form.yaml", remedy="Fix the name")

    assert run_cli(fail) == ExitCode.TEMPLATE
    err = capsys.readouterr().err
    assert err.strip() == "error: form.yaml: no such field. Fix the name"


def test_ctrl_c_exits_130(capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt

    assert run_cli(interrupted) == 130
    assert "interrupted" in capsys.readouterr().err


def test_an_unexpected_error_has_a_traceback_only_with_debug(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def boom() -> None:
        raise ValueError("bad value")

    assert run_cli(boom) == ExitCode.ERROR
    quiet = capsys.readouterr().err
    assert "Traceback" not in quiet
    assert "ValueError: bad value" in quiet and "--debug" in quiet
    assert run_cli(boom, debug=True) == ExitCode.ERROR
    assert "Traceback" in capsys.readouterr().err
