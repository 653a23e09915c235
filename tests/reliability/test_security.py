"""Security: template paths stay in their folder; no formula, HTML or code injection."""

from __future__ import annotations

import csv
import json
import shutil
import zipfile
from pathlib import Path
from uuid import UUID

import cv2
import numpy as np
import pytest
import yaml

from benchmarks.faults.badfiles import SAMPLES
from flows.digitise import digitise_forms, run_digitise_forms
from ocr_core.errors import ConfigurationError, ModelError, TemplateError
from ocr_core.intake.sources import confine_parameters
from ocr_core.recognition.inference import load_classifier
from ocr_core.recognition.normalise import CONTRACT
from ocr_core.results.csvfiles import FORMULA_PREFIXES, read_csv_rows, write_csv
from ocr_core.results.records import CharRow, FieldRow
from ocr_core.results.write import review_page
from ocr_core.review.examples import REVIEWED_LABELS, Example, store_examples
from ocr_core.settings import load_settings
from segmentation import load_template
from tests.folders import use_run_folders

HOSTILE = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\r=CR"]
TEMPLATE = {
    "name": "escape",
    "dpi": 100,
    "size": [800, 1000],
    "marks": False,
    "fields": [
        {"name": "f", "kind": "comb", "cells": 4, "charset": "digits", "box": [100, 400, 500, 480]}
    ],
}


@pytest.mark.parametrize(
    "reference", ["../../etc/passwd", "/etc/passwd", "../outside.png", "link.png"]
)
def test_template_reference_image_cannot_leave_its_folder(tmp_path: Path, reference: str) -> None:
    outside = tmp_path / "outside.png"
    cv2.imwrite(
        str(outside), np.full((1000, 800), 255, np.uint8)
    )  # a valid image: only the place is wrong
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "link.png").symlink_to(outside)
    path = folder / "escape.yaml"
    path.write_text(yaml.safe_dump({**TEMPLATE, "reference_image": reference}), encoding="utf-8")
    with pytest.raises(TemplateError, match="outside the template's folder") as caught:
        load_template(path)
    assert str(path) in str(caught.value) and "reference_image" in str(caught.value)
    # The same image beside the template is accepted.
    shutil.copy(outside, folder / "blank.png")
    path.write_text(yaml.safe_dump({**TEMPLATE, "reference_image": "blank.png"}), encoding="utf-8")
    assert load_template(path).reference_image is not None


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:  # keep a cell's \r as it is
        return list(csv.reader(handle))[1:]


def test_every_csv_writer_neutralises_formulas(tmp_path: Path) -> None:
    write_csv(tmp_path / "t.csv", ["a", "b"], [(text, text) for text in HOSTILE])
    rows = _rows(tmp_path / "t.csv")
    assert all(cell.startswith("'") for row in rows for cell in row), rows
    assert [r["a"] for r in read_csv_rows(tmp_path / "t.csv")] == HOSTILE  # read back unchanged

    # Reviewed training labels (data/reviewed/labels.csv): document, field and label cells.
    run = tmp_path / "run"
    (run / "crops").mkdir(parents=True)
    examples = []
    for i, text in enumerate(HOSTILE):
        image = np.full((28, 28), i * 20, np.uint8)
        cv2.imwrite(str(run / "crops" / f"{i}.input.png"), image)
        key = (text, 1, text, i)
        source = run / "crops" / f"{i}.input.png"
        examples.append(Example(source, None, "=+-@"[i % 4], "=run", key, text, "@now"))
    added = store_examples(tmp_path / "reviewed", examples).added
    assert added == len(HOSTILE)
    for row in _rows(tmp_path / "reviewed" / REVIEWED_LABELS):
        assert not any(cell.startswith(FORMULA_PREFIXES) for cell in row), row


def test_review_page_escapes_html_from_names_and_readings() -> None:
    evil = "<img src=x onerror=alert(1)>"
    row = CharRow(
        evil, 1, f"{evil}field", 0, "<", 0.5, "&", 0.3, '"', 0.2, True, 0, 0, 1, 1, "crops/a'b.png"
    )
    field = FieldRow(evil, 1, f"{evil}field", "<", 0.5, True, "needs_review", f"{evil} fails")
    page = review_page([field], [row])
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "src='crops/a%27b.png'" in page  # a crop's path, percent-encoded


def _lambda_bundle(folder: Path, marker: Path) -> Path:
    import keras

    inputs = keras.Input((28, 28, 1))
    # Writes a file when the layer runs: loading must never run it.
    code = f"lambda x: (open({str(marker)!r}, 'w').write('ran'), x)[1]"
    payload = keras.layers.Lambda(eval(code))  # a literal path: Keras stores only the bytecode
    outputs = keras.layers.Dense(10)(keras.layers.Flatten()(payload(inputs)))
    folder.mkdir(parents=True)
    keras.Model(inputs, outputs).save(folder / "model.keras")
    meta = {
        "name": folder.name,
        "labels": [str(d) for d in range(10)],
        "contract": CONTRACT,
        "temperature": 1.0,
        "threshold": 0.9,
    }
    (folder / "bundle.json").write_text(json.dumps(meta), encoding="utf-8")
    marker.unlink(missing_ok=True)  # building the model ran it once, here in the test
    return folder


def test_a_bundle_with_a_lambda_layer_is_refused_unrun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_harness: str
) -> None:
    import keras

    marker = tmp_path / "code-ran.txt"
    bundle = _lambda_bundle(tmp_path / "models" / "digits", marker)
    # The payload is real: an unsafe load runs it.
    keras.models.load_model(bundle / "model.keras", compile=False, safe_mode=False)
    assert marker.exists()
    marker.unlink()

    with pytest.raises(ModelError, match="Lambda") as caught:
        load_classifier(bundle)
    assert str(bundle / "model.keras") in str(caught.value)
    assert not marker.exists()

    # Through the folder watch: refused before any input is claimed.
    use_run_folders(tmp_path, monkeypatch, settle_s=0)
    monkeypatch.setenv("DIGITISE_MODELS_DIR", str(tmp_path / "models"))
    dropped = Path(shutil.copy(SAMPLES / "scan-001.png", tmp_path / "inbox" / "waiting.png"))
    with pytest.raises(ModelError, match="Lambda"):
        run_digitise_forms(watch_inbox=True, model="digits")
    assert dropped.exists() and not marker.exists()


def test_deployment_parameters_cannot_leave_the_data_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    (data / "samples").mkdir(parents=True)
    (data / "samples" / "out-link").symlink_to(tmp_path)
    monkeypatch.setenv("DIGITISE_DATA_DIR", str(data))
    monkeypatch.setenv("DIGITISE_OUTPUT_DIR", str(tmp_path / "results"))  # configured elsewhere
    settings = load_settings()
    confine_parameters(settings, [str(data / "samples"), str(tmp_path / "results" / "x")], "input")
    for escape in (
        str(data / ".." / ".." / "etc" / "passwd"),
        "/etc",
        str(data / "samples" / "out-link" / "secret.png"),
    ):
        with pytest.raises(ConfigurationError, match="outside the data folders") as caught:
            confine_parameters(settings, [escape], "input")
        assert escape in str(caught.value)


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize(
    "parameters", [{"input": "/etc"}, {"output": "/tmp"}, {"templates": ["/"]}]
)
def test_a_deployment_run_is_refused_paths_outside_the_data_folders(
    parameters: dict[str, object],
) -> None:
    from prefect import get_client
    from prefect.deployments.runner import RunnerDeployment
    from prefect.flow_engine import run_flow

    runner = digitise_forms.to_deployment(name="confinement-test")
    assert isinstance(runner, RunnerDeployment)  # sync context: never a coroutine
    deployment = runner.apply()
    assert isinstance(deployment, UUID)
    with get_client(sync_client=True) as client:
        run = client.create_flow_run_from_deployment(deployment, parameters=parameters)
    # What a served deployment does with a flow run, in this process.
    with pytest.raises(ConfigurationError, match="outside the data folders") as caught:
        run_flow(digitise_forms, flow_run=run, parameters=parameters)
    assert str(next(iter(parameters.values()))).strip("[]'") in str(caught.value)


def _zip_bundle(folder: Path, parts: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True)
    with zipfile.ZipFile(folder / "model.keras", "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    labels = [str(d) for d in range(10)]
    meta = {"name": folder.name, "labels": labels, "contract": CONTRACT, "temperature": 1.0}
    meta["threshold"] = 0.9
    (folder / "bundle.json").write_text(json.dumps(meta), encoding="utf-8")
    return folder


def test_a_bundle_naming_a_function_outside_keras_is_refused(tmp_path: Path) -> None:
    import keras

    inputs = keras.Input((28, 28, 1))
    outputs = keras.layers.Dense(10, activation="relu")(keras.layers.Flatten()(inputs))
    plain = tmp_path / "plain.keras"
    keras.Model(inputs, outputs).save(plain)
    with zipfile.ZipFile(plain) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    # Repacked as it was, the bundle loads: only the named function below makes it fail.
    assert load_classifier(_zip_bundle(tmp_path / "control", parts)).labels[0] == "0"
    config = parts["config.json"].decode("utf-8")
    gadget = {"module": "os", "class_name": "function", "config": "system"}
    gadget["registered_name"] = "system"  # the Dense layer's activation becomes os.system
    parts["config.json"] = config.replace('"relu"', json.dumps(gadget)).encode("utf-8")
    assert b'"os"' in parts["config.json"]
    bundle = _zip_bundle(tmp_path / "digits", parts)
    with pytest.raises(ModelError, match="cannot be loaded") as caught:
        load_classifier(bundle)
    assert str(bundle / "model.keras") in str(caught.value)
