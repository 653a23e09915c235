"""Bundles loaded ahead of a run, while its server starts: the run then loads none itself."""

from pathlib import Path

import pytest

from ocr_core.errors import ModelError
from ocr_core.reading.recognisers import Recognisers, preload
from ocr_core.recognition import inference
from tests.ocr_core.conftest import write_tiny_bundle

DIGITS = tuple("0123456789")


def test_a_preloaded_run_loads_no_bundle_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = tmp_path / "models"
    write_tiny_bundle(models / "digits", DIGITS)
    write_tiny_bundle(models / "alnum", (*DIGITS, *"ABC"))
    write_tiny_bundle(models / "junk", ("one", "junk"))
    loaded: list[str] = []
    load = inference._load_model

    def counted(path: Path) -> object:  # the real loader, counted
        loaded.append(path.parent.name)
        return load(path)

    monkeypatch.setattr(inference, "_load_model", counted)

    preload(models).join()
    assert sorted(loaded) == ["alnum", "digits", "junk"]
    recognisers = Recognisers(models)
    assert sorted(loaded) == ["alnum", "digits", "junk"]  # from the cache: none loaded twice
    assert recognisers.junk is not None and set(recognisers.bundles) == {"digits", "alnum"}


def test_a_broken_bundle_is_reported_by_the_run_not_the_preload(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    models = tmp_path / "models"
    write_tiny_bundle(models / "digits", DIGITS)
    (models / "digits" / "model.keras").write_bytes(b"not a model")

    preload(models, "digits").join()  # no traceback, no line: the run reports it
    assert "Traceback" not in capfd.readouterr().err
    with pytest.raises(ModelError, match="cannot be loaded"):
        Recognisers(models, "digits")
