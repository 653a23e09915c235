"""The one normalisation contract: what a character image looks like to the model.

A character image is 28x28 uint8, upright, white ink (high values) on a black (0) background,
framed the MNIST way: the ink's bounding box is scaled, keeping its aspect ratio, so that its
longer side is 20 px, and the result is placed so that the ink's centre of mass sits at the
centre of the 28x28 frame. Ink is stretched so that its strongest pixel is 255.

MNIST images already follow this framing. An image that already conforms (within the tolerances
below) passes through unchanged, so framing is idempotent and costs little for MNIST-style input.
EMNIST images (a square crop padded by 2 px) and crops cut from scanned forms are re-framed to it
by ``frame_character``, so training data and real crops look alike. Model bundles record
``CONTRACT`` and refuse to load under another one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import cv2
import numpy as np

SIZE: Final = 28
BOX: Final = 20
# Pixels at or under this level (of 255) are background when finding the ink's extent.
INK_LEVEL: Final = 40
# An image already conforms when its ink's longer side is within this many px of BOX and its
# centre of mass within COM_TOLERANCE px of the frame centre (MNIST centres on whole pixels, so its
# centres of mass sit up to 1 px off the true centre), and its strongest pixel is 255.
BOX_TOLERANCE: Final = 1
COM_TOLERANCE: Final = 1.0
_CENTRE: Final = SIZE / 2 - 0.5
_AXIS = np.arange(SIZE, dtype=np.float32)

CONTRACT: Final[dict[str, object]] = {
    "name": "mnist-com-20",
    "version": 1,
    "size": SIZE,
    "box": BOX,
    "ink": "white-on-black",
    "framing": "longer side of ink bounding box scaled to 20 px, centre of mass at frame centre",
    "ink_level": INK_LEVEL,
    "passthrough": "images within 1 px of the box size and of the centre, peak 255, stay as is",
}


def conforming(images: np.ndarray) -> np.ndarray:
    """Tell which images already follow the framing, vectorised over a batch.

    Args:
        images: uint8 (N, 28, 28), white ink on black.

    Returns:
        bool (N,): True where the image is already framed by the contract (within tolerance).
    """
    if images.ndim != 3 or images.shape[1:] != (SIZE, SIZE):
        return np.zeros(images.shape[:1], bool)
    ink: np.ndarray = np.asarray(images > INK_LEVEL)
    rows = np.any(ink, axis=2)
    cols = np.any(ink, axis=1)
    height = SIZE - rows[:, ::-1].argmax(axis=1) - rows.argmax(axis=1)
    width = SIZE - cols[:, ::-1].argmax(axis=1) - cols.argmax(axis=1)
    longer = np.maximum(height, width)
    mass = images.astype(np.float32)
    total = np.maximum(mass.sum(axis=(1, 2)), 1.0)
    cy = mass.sum(axis=2) @ _AXIS / total
    cx = mass.sum(axis=1) @ _AXIS / total
    return (
        np.any(rows, axis=1)
        & (images.max(axis=(1, 2)) == 255)
        & (np.abs(longer - BOX) <= BOX_TOLERANCE)
        & (np.abs(cy - _CENTRE) <= COM_TOLERANCE)
        & (np.abs(cx - _CENTRE) <= COM_TOLERANCE)
    )


def frame_character(image: np.ndarray) -> np.ndarray:
    """Frame one character image by the contract.

    Args:
        image: uint8 (H, W), any size, upright, white ink on black.

    Returns:
        uint8 (28, 28), white ink on black, framed as described in the module docstring.
        An image with no ink comes back all zeros; one that already conforms comes back as is.
    """
    if image.ndim != 2 or image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 (H, W) image, got {image.dtype} {image.shape}")
    if image.shape == (SIZE, SIZE) and conforming(image[None])[0]:
        return image.copy()
    return _frame_all([image])[0]


def frame_characters(images: np.ndarray) -> np.ndarray:
    """Frame a batch of character images by the contract.

    Images that already conform (MNIST's) pass through in one vectorised check; the others
    are framed together, exactly as ``frame_character`` frames each.

    Args:
        images: uint8 (N, H, W), upright, white ink on black.

    Returns:
        uint8 (N, 28, 28), each framed as described in the module docstring; a new array.
    """
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"expected a uint8 (N, H, W) batch, got {images.dtype} {images.shape}")
    done = conforming(images)
    out = (
        images.copy()
        if images.shape[1:] == (SIZE, SIZE)
        else np.empty((len(images), SIZE, SIZE), np.uint8)
    )
    todo = np.flatnonzero(~done)
    if todo.size:
        out[todo] = _frame_all([images[i] for i in todo])
    return out


def frame_inks(images: Sequence[np.ndarray]) -> np.ndarray:
    """``frame_character`` of each of many images of any sizes, framed together.

    For the candidate characters of a page (a thousand or more on an HSF page): each one's
    ink is still placed in its own frame, but the frames are stretched and rounded in one
    pass over all of them, and the conformity check is one vectorised test.

    Args:
        images: uint8 (H, W) each, any sizes, upright, white ink on black.

    Returns:
        uint8 (N, 28, 28), each image as ``frame_character`` returns it.
    """
    for image in images:
        if image.ndim != 2 or image.dtype != np.uint8:
            raise ValueError(f"expected uint8 (H, W) images, got {image.dtype} {image.shape}")
    out = np.empty((len(images), SIZE, SIZE), np.uint8)
    square = [i for i, image in enumerate(images) if image.shape == (SIZE, SIZE)]
    if square:  # a batch of them, those framed already passing through
        out[square] = frame_characters(np.stack([images[i] for i in square]))
    others = [i for i, image in enumerate(images) if image.shape != (SIZE, SIZE)]
    if others:
        out[others] = _frame_all([images[i] for i in others])
    return out


def _frame_all(images: Sequence[np.ndarray]) -> np.ndarray:
    """Frame uint8 (H, W) images (no conformity check) into one uint8 (N, 28, 28) array.

    Each image's ink is placed in its frame; then every frame is stretched so that its
    strongest pixel is 255, and a frame without ink stays all zeros.
    """
    placed = np.zeros((len(images), SIZE, SIZE), np.float32)
    for image, frame in zip(images, placed, strict=True):
        x, y, w, h = cv2.boundingRect((image > INK_LEVEL).view(np.uint8))
        if w and h:
            _place(image[y : y + h, x : x + w], frame)
    peak = placed.max(axis=(1, 2))
    inked = peak > 0
    stretch = np.zeros_like(peak)
    stretch[inked] = np.float32(255.0) / peak[inked]
    placed *= stretch[:, None, None]
    np.clip(placed, 0, 255, out=placed)
    return np.rint(placed, out=placed).astype(np.uint8)


def _place(ink: np.ndarray, frame: np.ndarray) -> None:
    """Scale the ink's bounding box to BOX px and draw it into ``frame`` (float32 28x28).

    The glyph's centre of mass goes on the frame centre, but no ink is pushed off the frame.
    """
    height, width = ink.shape
    scale = BOX / max(height, width)
    new_h = max(1, round(height * scale))
    new_w = max(1, round(width * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    glyph = cv2.resize(ink, (new_w, new_h), interpolation=interpolation).astype(np.float32)
    # Row and column sums give the centre of mass without an index grid per image. (Not
    # cv2.moments: it reads an (N, 2) float array, a glyph 2 px wide, as a list of points.)
    row_mass, col_mass = glyph.sum(axis=1), glyph.sum(axis=0)
    total = float(row_mass.sum())
    if total <= 0:
        return
    dx = min(max(_CENTRE - float(col_mass @ _AXIS[:new_w]) / total, 0.0), SIZE - new_w)
    dy = min(max(_CENTRE - float(row_mass @ _AXIS[:new_h]) / total, 0.0), SIZE - new_h)
    shift = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], dtype=np.float32)
    frame[:] = cv2.warpAffine(glyph, shift, (SIZE, SIZE), flags=cv2.INTER_LINEAR, borderValue=0.0)


def crop_to_character(crop: np.ndarray, *, ink_is_dark: bool = True) -> np.ndarray:
    """Turn a grayscale crop cut from a scanned page into a contract character image.

    Args:
        crop: uint8 (H, W) grayscale, as scanned; by default dark ink on a light background.
        ink_is_dark: False when the crop is already white ink on black.

    Returns:
        uint8 (28, 28), white ink on black, framed by the contract.
    """
    if crop.ndim != 2 or crop.dtype != np.uint8:
        raise ValueError(f"expected a uint8 (H, W) crop, got {crop.dtype} {crop.shape}")
    ink = cv2.bitwise_not(crop) if ink_is_dark else crop
    return frame_character(ink)
