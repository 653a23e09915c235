from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ocr_core.errors import ConfigurationError, InputFileError
from ocr_core.recognition.normalise import conforming
from ocr_core.training.corpus import (
    ALNUM47,
    ALNUM62,
    build_sets,
    load_emnist,
    load_mnist,
    load_pool,
    to_bundle_space,
)


def test_maps_characters_to_a_label_space() -> None:
    chars = np.array(["7", "A", "a", "c", "C", "", "?"])
    np.testing.assert_array_equal(to_bundle_space(chars, ALNUM47), [7, 10, 36, 12, 12, -1, -1])
    np.testing.assert_array_equal(to_bundle_space(chars, tuple("0123456789")), [7] + [-1] * 6)


def test_loads_mnist_and_pool_upright_and_framed(tiny_datasets: Path) -> None:
    images, chars = load_mnist(tiny_datasets, "train")
    assert images.shape == (400, 28, 28) and images.dtype == np.uint8 and chars[0].isdigit()
    images, chars = load_pool(tiny_datasets, "val")
    assert images.shape == (120, 28, 28) and conforming(images).mean() > 0.95
    _, chars62 = load_pool(tiny_datasets, "val", space=62)
    assert (chars62 == "").any()  # label 255: case unknown
    known = chars62 != ""
    assert (np.char.upper(chars62[known]) == np.char.upper(chars[known])).all()
    with pytest.raises(ValueError, match="pool split"):
        load_pool(tiny_datasets, "extra")


def test_pool_is_turned_upright(tiny_datasets: Path) -> None:
    # An upright "1" is tall; the stored (transposed) one is wide.
    images, chars = load_pool(tiny_datasets, "train")
    ink = images[chars == "1"] > 40
    assert ink.any(axis=2).sum(axis=1).mean() > ink.any(axis=1).sum(axis=1).mean()


def test_loads_the_official_release_layout(
    tmp_path: Path,
    idx_writer: Callable[[Path, np.ndarray], Path],
    char_drawer: Callable[[list[str], int], np.ndarray],
) -> None:
    folder = tmp_path / "emnist" / "gzip"
    chars = list("0123456789") * 3
    idx_writer(
        folder / "emnist-digits-train-images-idx3-ubyte.gz",
        np.transpose(char_drawer(chars, 1), (0, 2, 1)),
    )
    idx_writer(
        folder / "emnist-digits-train-labels-idx1-ubyte.gz", np.array([int(c) for c in chars])
    )
    (tmp_path / "emnist" / "emnist-digits-mapping.txt").write_text(
        "".join(f"{i} {48 + i}\n" for i in range(10))
    )
    images, got = load_emnist(tmp_path, "digits", "train")
    assert images.shape == (30, 28, 28) and got.tolist() == chars
    with pytest.raises(InputFileError, match=r"emnist.*official EMNIST balanced test"):
        load_emnist(tmp_path, "balanced", "test")


def test_build_sets_holds_back_val_and_restricts_labels(tiny_datasets: Path) -> None:
    sets = build_sets(tiny_datasets, "digits")
    assert set(sets) == {"train", "val", "test_mnist", "test_pool"}
    assert sets["train"].labels == tuple("0123456789")
    assert all(s.targets.max() <= 9 for s in sets.values())
    assert "mnist/train[val]" in sets["val"].sources and len(sets["test_mnist"]) == 100
    # 40 of 400 MNIST train images held back; pool digits only.
    assert (
        len(sets["train"]) + len(sets["val"]) - len(load_pool(tiny_datasets, "val")[0]) < 400 + 120
    )
    alnum = build_sets(tiny_datasets, "alnum", limit=50)
    assert all(len(s) <= 50 for s in alnum.values()) and alnum["val"].labels == ALNUM62
    assert alnum["test_pool_all"].labels == ALNUM47


def test_a_bundle_of_both_cases_learns_only_letters_whose_case_is_known(
    tiny_datasets: Path,
) -> None:
    sets = build_sets(tiny_datasets, "alnum")
    images, chars = load_pool(tiny_datasets, "test", 62)
    known = chars != ""
    assert (~known).sum() > 0 and len(sets["test_pool"]) == known.sum()
    assert [ALNUM62[t] for t in sets["test_pool"].targets] == chars[known].tolist()
    # The whole split, case merged, for figures that compare with a 47-class bundle's.
    assert len(sets["test_pool_all"]) == len(images)


def test_every_seed_holds_back_the_same_val_slice(tiny_datasets: Path) -> None:
    # Bundles trained from other seeds are compared on val (and form crops come from the
    # training handwriting): none may have trained on a val image.
    first, other = build_sets(tiny_datasets, "digits"), build_sets(tiny_datasets, "digits", seed=3)
    assert np.array_equal(first["val"].images, other["val"].images)
    assert np.array_equal(first["train"].images, other["train"].images)


def test_build_sets_without_mnist_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"no mnist/.*DIGITISE_DATASETS_DIR"):
        build_sets(tmp_path, "digits")
