from pathlib import Path

import numpy as np
import pytest

from ocr_core.errors import InputFileError
from ocr_core.training.corpus import ALNUM47, DIGITS
from ocr_core.training.crop_file import read_crop_file, write_crop_file
from tests.ocr_core.conftest import draw_characters


def test_round_trip_keeps_the_crops_that_fit_the_bundle(tmp_path: Path) -> None:
    chars = list("12cA=")  # c: a merged letter, "=" fits no bundle
    path = write_crop_file(
        tmp_path / "sub" / "crops.npz", draw_characters(chars, 1), np.array(chars), {"seed": 4}
    )
    assert [p.name for p in path.parent.iterdir()] == ["crops.npz"]  # no partial file left
    digits, meta = read_crop_file(path, DIGITS)
    alnum, _ = read_crop_file(path, ALNUM47)
    assert meta == {"seed": 4}
    assert [DIGITS[t] for t in digits.targets] == ["1", "2"]
    assert [ALNUM47[t] for t in alnum.targets] == ["1", "2", "C", "A"]
    assert alnum.images.dtype == np.uint8 and alnum.sources == ("form-crops:crops.npz",)


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 not a zip", b"\x93NUMPY rubbish"])
def test_a_corrupt_file_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "crops.npz"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match="not a readable crop file") as e:
        read_crop_file(path, DIGITS)
    assert "segmentation.synthetic.harvest" in str(e.value)


def test_missing_file_and_wrong_arrays_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="not a readable crop file"):
        read_crop_file(tmp_path / "nowhere.npz", DIGITS)
    np.savez(
        tmp_path / "odd.npz",
        images=np.zeros((2, 5, 5), np.uint8),
        chars=np.array(["1", "2"]),
        meta=np.array("{}"),
    )
    with pytest.raises(InputFileError, match="crop images are uint8"):
        read_crop_file(tmp_path / "odd.npz", DIGITS)
