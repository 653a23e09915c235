"""The junk bundle is trained, calibrated and measured on three splits, and loads like any other."""

from pathlib import Path

import numpy as np

from ocr_core import load_classifier
from ocr_core.training.junk import LABELS, main


def _candidates(path: Path, seed: int) -> None:
    """Whole bars (one character) and pairs of bars side by side (junk), as model inputs."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for i in range(120):
        image = np.zeros((28, 28), np.uint8)
        x = int(rng.integers(8, 12))
        image[4:24, x : x + 3] = 255
        if i % 2:
            image[4:24, x + 8 : x + 11] = 255
        images.append(image)
        labels.append(0 if i % 2 else 1)
    np.savez_compressed(path, images=np.stack(images), labels=np.array(labels, np.uint8))


def test_command_writes_a_bundle_that_loads(tmp_path: Path) -> None:
    for split, seed in (("train", 0), ("val", 1), ("test", 2)):
        _candidates(tmp_path / f"{split}.npz", seed)
    out = tmp_path / "junk"
    argv = [f"--{s}={tmp_path / f'{s}.npz'}" for s in ("train", "val", "test")]
    assert main([*argv, "--out", str(out), "--epochs", "2"]) == 0
    bundle = load_classifier(out)
    assert bundle.labels == LABELS and bundle.temperature > 0
    assert bundle.metadata["metrics"]["test"]["candidates"] == 120
    assert "junk taken for one" in (out / "README.md").read_text()


def test_a_missing_candidates_file_is_one_line(tmp_path: Path, capsys) -> None:
    missing = str(tmp_path / "nothing.npz")
    code = main(["--train", missing, "--val", missing, "--test", missing, "--out", str(tmp_path)])
    assert code != 0
    err = capsys.readouterr().err
    assert "nothing.npz" in err and "Traceback" not in err
