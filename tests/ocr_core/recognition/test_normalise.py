import numpy as np
import pytest

from ocr_core.recognition.normalise import (
    BOX,
    SIZE,
    crop_to_character,
    frame_character,
    frame_characters,
    frame_inks,
)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(image.shape)
    total = image.sum()
    return float((ys * image).sum() / total), float((xs * image).sum() / total)


def test_frames_an_off_centre_bar_to_20px_centred() -> None:
    image = np.zeros((90, 60), np.uint8)
    image[5:65, 40:50] = 200  # a tall stroke, far from the centre, not full intensity
    framed = frame_character(image)
    assert framed.shape == (SIZE, SIZE) and framed.dtype == np.uint8
    assert framed.max() == 255
    rows = np.flatnonzero((framed > 40).any(axis=1))
    assert abs((rows[-1] - rows[0] + 1) - BOX) <= 1
    cy, cx = centre_of_mass(framed.astype(float))
    assert abs(cy - 13.5) < 0.6 and abs(cx - 13.5) < 0.6


def test_empty_image_stays_empty() -> None:
    assert not frame_character(np.zeros((40, 40), np.uint8)).any()
    assert not frame_character(np.full((40, 40), 30, np.uint8)).any()  # faint noise is not ink


def test_dark_ink_crop_is_inverted() -> None:
    crop = np.full((50, 50), 255, np.uint8)
    crop[10:40, 20:26] = 0
    framed = crop_to_character(crop)
    assert framed.max() == 255 and framed[0, 0] == 0


def test_batch_matches_single_and_checks_types() -> None:
    rng = np.random.default_rng(0)
    batch = (rng.random((3, 28, 28)) > 0.9).astype(np.uint8) * 255
    framed = frame_characters(batch)
    for i in range(3):
        np.testing.assert_array_equal(framed[i], frame_character(batch[i]))
    with pytest.raises(ValueError, match="uint8"):
        frame_character(batch[0].astype(np.float32))


@pytest.mark.parametrize("width", [1, 2, 3])
def test_a_thin_stroke_is_centred(width: int) -> None:
    # A "1" a pixel or two wide: once scaled, it is an (N, 1..3) glyph, a shape some image
    # libraries read as a list of points rather than an image.
    image = np.zeros((28, 28), np.uint8)
    image[2:26, 3 : 3 + width] = 255
    framed = frame_character(image)
    cy, cx = centre_of_mass(framed.astype(float))
    assert abs(cy - 13.5) < 0.6 and abs(cx - 13.5) < 0.6


def test_batch_mixes_conforming_empty_and_large_images() -> None:
    batch = np.zeros((3, 28, 28), np.uint8)
    batch[1, 4:24, 10:18] = 255  # already framed: passes through unchanged
    batch[2, 0:28, 0:28] = 255  # 28 px of ink: scaled down to 20
    framed = frame_characters(batch)
    assert not framed[0].any()
    np.testing.assert_array_equal(framed[1], batch[1])
    rows = np.flatnonzero((framed[2] > 40).any(axis=1))
    assert rows[-1] - rows[0] + 1 == BOX


def test_images_of_any_sizes_framed_together_are_framed_as_one_by_one() -> None:
    rng = np.random.default_rng(3)
    images = [
        (rng.random((int(h), int(w))) * 255).astype(np.uint8)
        for h, w in rng.integers(1, 90, (20, 2))
    ]
    conforming = np.zeros((28, 28), np.uint8)
    conforming[4:24, 10:18] = 255  # already framed: passes through as frame_character lets it
    off_centre = np.zeros((28, 28), np.uint8)
    off_centre[0:10, 0:5] = 255  # 28x28 but not framed: framed
    faint = np.full((12, 9), 30, np.uint8)  # nothing over the ink level: no ink
    images += [conforming, off_centre, np.zeros((5, 7), np.uint8), faint]
    framed = frame_inks(images)
    assert framed.shape == (len(images), SIZE, SIZE) and framed.dtype == np.uint8
    for image, one in zip(images, framed, strict=True):
        np.testing.assert_array_equal(one, frame_character(image))
    np.testing.assert_array_equal(framed[-4], conforming)
    assert not framed[-2].any() and not framed[-1].any()
    assert frame_inks([]).shape == (0, SIZE, SIZE)
    with pytest.raises(ValueError, match="uint8"):
        frame_inks([images[0].astype(np.float32)])
