import gzip
from pathlib import Path

import numpy as np
import pytest

from ocr_core.errors import InputFileError
from ocr_core.training.datasets import emnist_upright, read_idx, read_mapping


def write_idx(path: Path, array: np.ndarray, type_code: int = 0x08, compress: bool = True) -> Path:
    header = bytes([0, 0, type_code, array.ndim])
    header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    path.write_bytes(gzip.compress(payload) if compress else payload)
    return path


def test_reads_images_and_labels_gzip_and_raw(tmp_path: Path) -> None:
    images = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    labels = np.array([7, 0, 9], dtype=np.uint8)
    got = read_idx(write_idx(tmp_path / "img-idx3-ubyte.gz", images))
    assert got.dtype == np.uint8 and got.shape == (3, 4, 5)
    np.testing.assert_array_equal(got, images)
    raw = read_idx(write_idx(tmp_path / "lab-idx1-ubyte", labels, compress=False))
    np.testing.assert_array_equal(raw, labels)


def test_reads_wider_types_in_native_order(tmp_path: Path) -> None:
    values = np.array([1, -2, 300000], dtype=np.int32)
    got = read_idx(write_idx(tmp_path / "ints.gz", values, type_code=0x0C))
    assert got.dtype == np.int32 and got.dtype.isnative
    np.testing.assert_array_equal(got, values)


def test_truncated_file_names_the_file(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "short-idx3-ubyte", np.zeros((2, 4, 4), np.uint8), compress=False)
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(InputFileError, match=r"short-idx3-ubyte.*truncated"):
        read_idx(path)


def test_truncated_gzip_names_the_file(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "cut.gz", np.zeros((20, 28, 28), np.uint8))
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(InputFileError, match=r"cut\.gz.*gzip"):
        read_idx(path)


def test_wrong_magic_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "notidx.gz"
    path.write_bytes(gzip.compress(b"PK\x03\x04 this is a zip"))
    with pytest.raises(InputFileError, match=r"notidx\.gz.*magic"):
        read_idx(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="not found"):
        read_idx(tmp_path / "absent.gz")


def test_mapping(tmp_path: Path) -> None:
    path = tmp_path / "map.txt"
    path.write_text("0 48\n1 49\n10 65\n36 97\n")
    assert read_mapping(path) == {0: "0", 1: "1", 10: "A", 36: "a"}
    path.write_text("0 48\nnot a line\n")
    with pytest.raises(InputFileError, match="line 2"):
        read_mapping(path)


def test_emnist_upright_transposes_each_image() -> None:
    stored = np.zeros((2, 28, 28), np.uint8)
    stored[:, 3, 10] = 255  # stored row 3, column 10 is upright row 10, column 3
    upright = emnist_upright(stored)
    assert upright[0, 10, 3] == 255 and upright[1, 10, 3] == 255
    assert upright.flags.c_contiguous
    np.testing.assert_array_equal(emnist_upright(stored[0]), upright[0])


def test_reads_the_real_files(datasets_dir: Path) -> None:
    images = read_idx(datasets_dir / "mnist/t10k-images-idx3-ubyte.gz")
    labels = read_idx(datasets_dir / "mnist/t10k-labels-idx1-ubyte.gz")
    assert images.shape == (10000, 28, 28) and labels.shape == (10000,)
    assert set(np.unique(labels)) == set(range(10))
    mapping = read_mapping(datasets_dir / "emnist/emnist-balanced-mapping.txt")
    assert len(mapping) == 47 and mapping[10] == "A" and mapping[36] == "a"
