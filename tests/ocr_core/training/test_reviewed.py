"""Reviewed crops (apply-review's output) read back as training data."""

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ocr_core.errors import InputFileError
from ocr_core.recognition.normalise import frame_characters
from ocr_core.results.csvfiles import read_csv_rows, write_csv
from ocr_core.training.corpus import (
    ALNUM47,
    ALNUM62,
    DIGITS,
    EITHER_CASE,
    CharacterSet,
    add_to_train,
    build_sets,
    load_mnist,
)
from ocr_core.training.reviewed import choose_reviewed, load_reviewed
from ocr_core.training.train import TrainConfig, load_training_sets, parse_config

Reviewer = Callable[[Path, Path, np.ndarray, list[str]], int]
# Eight MNIST test digits keep their labels; three more are relabelled as a reviewer might.
RELABELLED = ["c", "a", "*"]  # c merges into C in the 47-class space; * is in no space


@pytest.fixture(scope="module")
def mnist_crops(datasets_dir: Path) -> tuple[np.ndarray, list[str]]:
    """Eleven real MNIST test images and their labels (three relabelled), as model inputs."""
    images, chars = load_mnist(datasets_dir, "test")
    return images[:11], [str(c) for c in chars[:8]] + RELABELLED


@pytest.fixture
def reviewed(tmp_path: Path, reviewer: Reviewer, mnist_crops: tuple[np.ndarray, list[str]]) -> Path:
    """A reviewed folder from apply-review: 11 MNIST crops, a 32x32 one, then two damaged."""
    folder = tmp_path / "reviewed"
    images, labels = mnist_crops
    assert reviewer(folder, tmp_path / "run1", images, labels) == 11
    big = np.zeros((1, 32, 32), np.uint8)
    big[0, 8:24, 14:18] = 255
    assert reviewer(folder, tmp_path / "run2", big, ["1"]) == 1
    listed = (folder / "labels.csv").read_text().splitlines()[1:]
    (folder / listed[0].split(",")[0]).write_bytes(b"not a png at all")  # corrupt
    (folder / listed[1].split(",")[0]).unlink()  # missing
    return folder


def test_reads_apply_review_output_into_the_alnum_space(
    reviewed: Path, mnist_crops: tuple[np.ndarray, list[str]]
) -> None:
    got = load_reviewed(reviewed, ALNUM47)
    assert got.rows == 12
    assert got.skipped == {
        "unreadable image": 1,
        "missing image": 1,
        "not 28x28 grayscale": 1,
        "label outside the bundle": 1,
    }
    images, labels = mnist_crops
    expected = labels[2:10]  # rows 0 and 1 damaged, "*" and the 32x32 crop skipped
    assert len(got.examples) == 8
    assert [ALNUM47[t] for t in got.examples.targets] == [*expected[:6], "C", "a"]
    assert got.examples.images.dtype == np.uint8 and got.examples.images.shape == (8, 28, 28)
    np.testing.assert_array_equal(got.examples.images, frame_characters(images[2:10]))
    assert got.examples.sources == (f"reviewed:{reviewed}",)


def test_digits_bundle_keeps_only_digits(reviewed: Path) -> None:
    got = load_reviewed(reviewed, DIGITS)
    assert len(got.examples) == 6 and got.skipped["label outside the bundle"] == 3
    assert set(got.examples.targets.tolist()) <= set(range(10))


def test_reads_only_the_first_rows_when_asked(reviewed: Path) -> None:
    got = load_reviewed(reviewed, ALNUM47, max_rows=5)
    assert got.rows == 5 and len(got.examples) == 3  # rows 0 and 1 are damaged


def test_skips_are_counted_in_one_warning(reviewed: Path, caplog: pytest.LogCaptureFixture) -> None:
    load_reviewed(reviewed, ALNUM47)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "skipped 4 of 12 reviewed rows" in warnings[0]
    assert "labels.csv" in warnings[0]


def test_a_missing_folder_or_listing_holds_no_examples(tmp_path: Path) -> None:
    for folder in (tmp_path / "none", tmp_path):
        got = load_reviewed(folder, ALNUM47)
        assert (len(got.examples), got.rows, got.skipped) == (0, 0, {})
        assert got.examples.images.shape == (0, 28, 28)


def test_a_listing_without_labels_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text("image,run\nimages/a.png,r1\n")
    with pytest.raises(InputFileError, match=r"labels\.csv: .*no label column.*--no-reviewed"):
        load_reviewed(tmp_path, ALNUM47)


def test_reviewed_examples_go_to_train_only_repeated(reviewed: Path) -> None:
    examples = load_reviewed(reviewed, ALNUM47).examples
    empty = np.zeros((0, 28, 28), np.uint8)
    base = {
        name: CharacterSet(empty, np.zeros(0, np.int32), ALNUM47, (name,))
        for name in ("train", "val")
    }
    sets = add_to_train(base, examples, 3)
    assert len(sets["train"]) == 24 and len(sets["val"]) == 0
    assert sets["train"].sources == ("train", f"reviewed:{reviewed} x3")
    np.testing.assert_array_equal(sets["train"].targets[8:16], examples.targets)
    assert add_to_train(base, examples.subset(np.zeros(8, bool)), 3) is base


def test_training_sets_hold_the_reviewed_examples(tiny_datasets: Path, reviewed: Path) -> None:
    config = TrainConfig("alnum", Path("unused"), tiny_datasets, reviewed=reviewed)
    sets, got, _ = load_training_sets(config)
    plain = build_sets(tiny_datasets, "alnum")
    assert got is not None and len(got.examples) == 8
    assert len(sets["train"]) == len(plain["train"]) + 8 * 5
    assert {n: len(s) for n, s in sets.items() if n != "train"} == {
        n: len(s) for n, s in plain.items() if n != "train"
    }
    # A quick run's limit samples the datasets, never the reviewed examples.
    quick = TrainConfig("alnum", Path("u"), tiny_datasets, limit=50, reviewed=reviewed)
    limited, _, _ = load_training_sets(quick)
    assert len(limited["train"]) == 50 + 8 * 5 and len(limited["val"]) == 50


def test_identity_without_reviewed_matches_older_checkpoints(tmp_path: Path) -> None:
    plain = TrainConfig("digits", tmp_path / "out", tmp_path).identity()
    assert "reviewed" not in plain and "reviewed_repeat" not in plain
    with_reviewed = TrainConfig("digits", tmp_path / "out", tmp_path, reviewed=Path("r"))
    identity = with_reviewed.identity()
    assert identity["reviewed"] == str(Path("r").resolve()) and identity["reviewed_repeat"] == 5
    json.dumps(identity)  # saved in the checkpoint's state.json


def test_cli_defaults_to_the_settings_reviewed_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "reviewed"
    monkeypatch.setenv("DIGITISE_REVIEWED_DIR", str(folder))
    base = ["--bundle", "digits", "--data-dir", str(tmp_path)]
    assert parse_config(base)[0].reviewed is None  # no folder yet
    folder.mkdir()
    (folder / "labels.csv").write_text("image,label\n")
    assert parse_config(base)[0].reviewed == folder
    assert parse_config([*base, "--no-reviewed"])[0].reviewed is None
    config, _ = parse_config([*base, "--reviewed", "elsewhere", "--reviewed-repeat", "2"])
    assert config.reviewed == Path("elsewhere") and config.reviewed_repeat == 2
    assert choose_reviewed(Path("x"), use=False) is None
    with pytest.raises(SystemExit):
        parse_config([*base, "--reviewed", "x", "--no-reviewed"])


def test_a_look_alike_confirmed_where_both_cases_read_as_one_trains_as_either_case(
    tmp_path: Path, reviewer: Reviewer, mnist_crops: tuple[np.ndarray, list[str]]
) -> None:
    folder = tmp_path / "reviewed"
    assert reviewer(folder, tmp_path / "run", mnist_crops[0][:4], ["C", "C", "a", "l"]) == 4
    listing = folder / "labels.csv"
    rows = read_csv_rows(listing)
    assert [r["charset"] for r in rows] == [""] * 4  # the helper's field has no template
    for row, charset in zip(rows, ["upper", "alnum", "alnum", ""], strict=True):
        row["charset"] = charset  # as fields of a template with these charsets give them
    write_csv(listing, tuple(rows[0]), [tuple(r.values()) for r in rows])
    got = load_reviewed(folder, ALNUM62).examples.targets.tolist()
    either = [len(ALNUM62) + EITHER_CASE.index(c) for c in "cl"]
    assert got == [ALNUM62.index("C"), either[0], ALNUM62.index("a"), either[1]]
    # The 47-class space merges those cases anyway.
    assert load_reviewed(folder, ALNUM47).examples.targets.tolist() == [
        ALNUM47.index(c) for c in "CCaL"
    ]
