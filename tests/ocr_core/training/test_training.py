import dataclasses
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ocr_core import load_classifier
from ocr_core.errors import ConfigurationError
from ocr_core.training.corpus import ALNUM47, ALNUM62, build_sets
from ocr_core.training.crop_file import write_crop_file
from ocr_core.training.fitting import load_initial_model
from ocr_core.training.train import STATE_FILE, TrainConfig, main, train_bundle

Drawer = Callable[[list[str], int], np.ndarray]
Reviewer = Callable[[Path, Path, np.ndarray, list[str]], int]


class Interrupted(Exception):
    """Stands in for a kill right after a checkpoint."""


def config(tiny_datasets: Path, tmp_path: Path, **kw: object) -> TrainConfig:
    base: dict = dict(
        bundle="alnum",
        out=tmp_path / "alnum",
        data_dir=tiny_datasets,
        epochs=1,
        batch_size=64,
        checkpoint_dir=tmp_path / "ckpt",
    )
    return TrainConfig(**{**base, **kw})


def test_trains_one_epoch_end_to_end(
    tiny_datasets: Path, tmp_path: Path, reviewer: Reviewer, char_drawer: Drawer
) -> None:
    reviewed = tmp_path / "reviewed"
    chars = list("0123456789cAb")  # c: a look-alike letter, its own class in 62
    assert reviewer(reviewed, tmp_path / "run", char_drawer(chars, 7), chars) == 13
    out = train_bundle(config(tiny_datasets, tmp_path, reviewed=reviewed))
    for name in (
        "model.keras",
        "bundle.json",
        "README.md",
        "training_curves.png",
        "confused_pairs.png",
        "reliability.png",
        "error_vs_coverage.png",
    ):
        assert (out / name).is_file(), name
    meta = json.loads((out / "bundle.json").read_text())
    assert meta["temperature"] > 0 and 0 < meta["threshold"] <= 1
    assert {"val", "test_mnist", "test_pool"} <= set(meta["metrics"])
    assert meta["training"]["epochs_run"] == 1 and meta["training"]["sizes"]["train"] > 300
    # The reviewed crops were trained on (five copies each), and the bundle says so.
    training = meta["training"]
    assert training["reviewed"] == {
        "folder": str(reviewed),
        "examples": 13,
        "repeat": 5,
        "rows_read": 13,
        "skipped": {},
    }
    assert training["sizes"]["train"] == len(build_sets(tiny_datasets, "alnum")["train"]) + 65
    assert f"reviewed:{reviewed} x5" in training["sources"]["train"]
    assert f"reviewed:{reviewed}" not in str(training["sources"]["val"])
    assert f"reviewed:{reviewed} x5" in (out / "README.md").read_text()
    clf = load_classifier(out)
    pred = clf.predict(np.zeros((3, 28, 28), np.uint8))
    assert pred.labels.shape == (3, 3)
    assert not out.with_name("alnum.tmp").exists()


def test_resumes_from_the_last_checkpoint(
    tiny_datasets: Path, tmp_path: Path, reviewer: Reviewer, char_drawer: Drawer
) -> None:
    reviewed = tmp_path / "reviewed"
    reviewer(reviewed, tmp_path / "run1", char_drawer(list("012345"), 1), list("012345"))
    cfg = config(
        tiny_datasets,
        tmp_path,
        epochs=3,
        bundle="digits",
        out=tmp_path / "digits",
        batch_size=32,
        reviewed=reviewed,
    )
    first: list[int] = []

    def stop_after_first(epoch: int, logs: dict[str, float]) -> None:
        first.append(epoch)
        if epoch == 1:
            raise Interrupted

    with pytest.raises(Interrupted):
        train_bundle(cfg, on_epoch=stop_after_first)
    saved = json.loads((tmp_path / "ckpt" / STATE_FILE).read_text())["state"]
    assert first == [1] and saved["epoch"] == 1 and not saved["finished"]
    # Different settings do not silently mix with the unfinished run, nor discard it.
    with pytest.raises(ConfigurationError, match=r"ckpt.*other settings.*--restart"):
        train_bundle(config(tiny_datasets, tmp_path, epochs=5, bundle="digits"))
    with pytest.raises(ConfigurationError, match=r"reviewed: '.*reviewed' there, None here"):
        train_bundle(config(tiny_datasets, tmp_path, epochs=3, bundle="digits", batch_size=32))
    # Reviewers go on working while the run is down: the resumed run keeps to its first 6 rows.
    reviewer(reviewed, tmp_path / "run2", char_drawer(list("6789"), 2), list("6789"))

    second: list[int] = []
    train_bundle(cfg, on_epoch=lambda epoch, logs: second.append(epoch))
    assert second == [2, 3]  # epoch 1 was not trained again
    state = json.loads((tmp_path / "ckpt" / STATE_FILE).read_text())["state"]
    assert state["epoch"] == 3 and state["finished"] and state["written"]
    assert len(state["history"]["loss"]) == 3
    assert state["history"]["loss"][0] == saved["history"]["loss"][0]
    import keras

    # The optimizer state came back too: its step count covers all three epochs, not two.
    model = keras.models.load_model(tmp_path / "ckpt" / "last.keras")
    steps = (
        int(json.loads((cfg.out / "bundle.json").read_text())["training"]["sizes"]["train"]) // 32
    )
    assert int(model.optimizer.iterations.numpy()) == 3 * max(1, steps)
    recorded = json.loads((cfg.out / "bundle.json").read_text())["training"]["reviewed"]
    assert (recorded["rows_read"], recorded["examples"]) == (6, 6)

    # That run is written: a run with other settings starts afresh in its folder, and reads
    # every reviewed row, not the 6 the finished run started with.
    train_bundle(dataclasses.replace(cfg, epochs=1))
    recorded = json.loads((cfg.out / "bundle.json").read_text())["training"]["reviewed"]
    assert (recorded["rows_read"], recorded["examples"]) == (10, 10)


def test_fine_tunes_a_bundle_in_place_on_form_crops(
    tiny_datasets: Path, tmp_path: Path, char_drawer: Drawer
) -> None:
    import keras

    digits = tmp_path / "digits"
    base = config(tiny_datasets, tmp_path, bundle="digits", out=digits, batch_size=32)
    train_bundle(base)
    before = keras.models.load_model(digits / "model.keras").get_weights()
    chars = list("0123456789AB")  # letters do not fit a digits bundle
    made = {"pages": 1, "seed": 9, "handwriting": "train split"}
    crops = write_crop_file(tmp_path / "crops.npz", char_drawer(chars, 3), np.array(chars), made)
    # Training starts from the bundle's own weights.
    start = load_initial_model(digits, tuple("0123456789")).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(start, before, strict=True))

    tune = config(
        tiny_datasets,
        tmp_path,
        bundle="digits",
        out=digits,
        batch_size=32,
        learning_rate=2e-4,
        init_from=digits,
        form_crops=(crops,),
    )  # same checkpoint folder as the base: its run is finished and written, so none to resume
    train_bundle(tune)
    after = keras.models.load_model(digits / "model.keras").get_weights()
    assert not all(np.array_equal(a, b) for a, b in zip(after, before, strict=True))
    training = json.loads((digits / "bundle.json").read_text())["training"]
    assert training["init_from"]["path"] == str(digits)
    assert training["init_from"]["training"]["epochs_run"] == 1  # the base, not the fine-tune
    assert training["form_crops"] == [{"file": str(crops), "examples": 10, "made": made}]
    plain = len(build_sets(tiny_datasets, "digits")["train"])
    assert training["sizes"]["train"] == plain + 10
    card = (digits / "README.md").read_text()
    assert f"Fine-tuned from `{digits}`" in card and "10 crops (x1)" in card
    assert f"--init-from {digits} --form-crops {crops} --form-crops-repeat 1" in card

    # Tuned again into a folder of another name: the card lists both steps, back to the base
    # trained from scratch, and every command names the bundle type, not the folder.
    again = tmp_path / "digits-forms"
    train_bundle(
        config(
            tiny_datasets,
            tmp_path,
            bundle="digits",
            out=again,
            batch_size=32,
            init_from=digits,
            checkpoint_dir=tmp_path / "ckpt-again",
        )
    )
    card = (again / "README.md").read_text()
    assert card.count("- Fine-tuned from ") == 2
    assert "--bundle digits-forms" not in card and card.count("--bundle digits ") == 3
    assert f"--out {digits}" in card and "--out data/models/digits-forms" in card

    with pytest.raises(ConfigurationError, match="has 10 classes, not 62"):
        train_bundle(
            config(tiny_datasets, tmp_path, init_from=digits, checkpoint_dir=tmp_path / "c")
        )
    with pytest.raises(ConfigurationError, match="no model to start from"):
        train_bundle(
            config(tiny_datasets, tmp_path, init_from=tmp_path, checkpoint_dir=tmp_path / "d")
        )


def test_cli_reports_a_missing_datasets_folder(tmp_path: Path) -> None:
    code = main(
        [
            "--bundle",
            "digits",
            "--data-dir",
            str(tmp_path / "none"),
            "--out",
            str(tmp_path / "out"),
            "--checkpoint-dir",
            str(tmp_path / "ckpt"),
        ]
    )
    assert code == 5


@pytest.mark.slow
def test_cli_resumes_after_a_kill(tiny_datasets: Path, tmp_path: Path) -> None:
    ckpt = tmp_path / "ckpt"
    command = [
        sys.executable,
        "-m",
        "ocr_core.training",
        "--bundle",
        "digits",
        "--epochs",
        "8",
        "--patience",
        "20",
        "--batch-size",
        "32",
        "--data-dir",
        str(tiny_datasets),
        "--out",
        str(tmp_path / "digits"),
        "--checkpoint-dir",
        str(ckpt),
    ]
    first = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (ckpt / STATE_FILE).is_file() and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)  # no chance to clean up
    first.wait()
    done = json.loads((ckpt / STATE_FILE).read_text())["state"]["epoch"]
    assert 1 <= done < 8
    second = subprocess.run(command, capture_output=True, text=True, check=True)
    assert f"after epoch {done}" in second.stderr
    trained = [line for line in second.stderr.splitlines() if "epoch " in line and "/8:" in line]
    assert len(trained) == 8 - done  # only the remaining epochs were trained
    meta = json.loads((tmp_path / "digits" / "bundle.json").read_text())
    assert meta["training"]["epochs_run"] == 8


def test_a_47_class_bundle_is_widened_to_both_cases_reading_the_same(tmp_path: Path) -> None:
    from ocr_core.recognition.calibration import softmax
    from ocr_core.recognition.charset import resolve_charset
    from tests.ocr_core.conftest import write_tiny_bundle

    old = write_tiny_bundle(tmp_path / "old", ALNUM47)
    wide = load_initial_model(old, ALNUM62)
    assert wide.output_shape[-1] == 62
    images = np.random.default_rng(0).integers(0, 256, (4, 28, 28, 1)).astype(np.float32)
    before = softmax(np.asarray(load_initial_model(old, ALNUM47)(images, training=False)))
    after = softmax(np.asarray(wide(images, training=False)))
    # Read with no charset, case merged, it reads what the 47-class model read.
    np.testing.assert_allclose(resolve_charset(ALNUM62, None).merge(after), before, atol=1e-5)
    # c and C split C's probability evenly.
    c, big = ALNUM62.index("c"), ALNUM62.index("C")
    np.testing.assert_allclose(after[:, c], after[:, big], rtol=1e-5)
