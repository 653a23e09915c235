from pathlib import Path

import pytest
from pydantic import ValidationError

from ocr_core.errors import ConfigurationError
from ocr_core.settings import load_settings, project_root


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DIGITISE_DATASETS_DIR", str(tmp_path))
    monkeypatch.setenv("DIGITISE_POLL_INTERVAL_S", "5")
    settings = load_settings()
    assert settings.datasets_dir == tmp_path
    assert settings.poll_interval_s == 5
    assert settings.require_datasets_dir() == tmp_path
    # Relative defaults and values are the project's, wherever the command was started.
    assert load_settings().models_dir == project_root() / "data/models"
    monkeypatch.setenv("DIGITISE_OUTPUT_DIR", "results")
    monkeypatch.chdir(tmp_path)
    assert load_settings().output_dir == Path(__file__).resolve().parents[1] / "results"


def test_invalid_values_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGITISE_REVIEW_THRESHOLD", "1.5")
    with pytest.raises(ValidationError, match="review_threshold"):
        load_settings()
    monkeypatch.setenv("DIGITISE_REVIEW_THRESHOLD", "0.5")
    assert load_settings().review_threshold == 0.5
    monkeypatch.delenv("DIGITISE_REVIEW_THRESHOLD")
    assert load_settings().review_threshold is None
    with pytest.raises(ValidationError, match="pdf_dpi"):
        load_settings(pdf_dpi=10)


def test_missing_datasets_dir_says_which_setting(tmp_path: Path) -> None:
    settings = load_settings(datasets_dir=tmp_path / "absent")
    with pytest.raises(ConfigurationError, match="DIGITISE_DATASETS_DIR"):
        settings.require_datasets_dir()


def test_a_bad_setting_is_one_line_for_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from ocr_core.cli import load_cli_settings

    monkeypatch.setenv("DIGITISE_WATCH_MODE", "sometimes")
    with pytest.raises(ConfigurationError, match="DIGITISE_WATCH_MODE") as caught:
        load_cli_settings()
    assert "\n" not in str(caught.value)
