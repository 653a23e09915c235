"""Printed labels beside each field box, read with Tesseract (its CLI, TSV output)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ocr_core.errors import ConfigurationError
from segmentation.records import Box, FieldSpec

TESSERACT_FIX = "Install Tesseract: apt-get install tesseract-ocr (or run make tesseract)"


@dataclass(frozen=True, slots=True)
class Word:
    """One printed word Tesseract read: its text, box (x0, y0, x1, y1) and confidence 0-100."""

    text: str
    box: Box
    confidence: float


def tesseract_available() -> bool:
    """True when the ``tesseract`` command is on the PATH."""
    return shutil.which("tesseract") is not None


def read_labels(page: np.ndarray, fields: Sequence[FieldSpec], dpi: int) -> list[str]:
    """The printed label of each field ("" where none is found), in the fields' order.

    Only the strips where labels sit (above a box, left of it, right of a tick box) are shown
    to Tesseract, with the boxes' insides (handwriting) and the printed lines whited out.

    Args:
        page: uint8 (H, W), dark ink on light paper, upright (the fields' coordinates).
        fields: the fields found on it.
        dpi: the page's resolution.

    Raises:
        ConfigurationError: Tesseract is not installed or fails.
    """
    if not fields:
        return []
    strips = _label_strips(page, fields, dpi)
    # Tesseract's time grows with the area it looks over: show it only the inked part.
    rows, cols = (
        np.flatnonzero((strips < 128).any(axis=1)),
        np.flatnonzero((strips < 128).any(axis=0)),
    )
    if rows.size == 0:
        return [""] * len(fields)
    pad = dpi // 20
    top, left = max(0, rows[0] - pad), max(0, cols[0] - pad)
    crop = strips[top : rows[-1] + pad + 1, left : cols[-1] + pad + 1]
    words = [
        Word(
            w.text, (w.box[0] + left, w.box[1] + top, w.box[2] + left, w.box[3] + top), w.confidence
        )
        for w in read_words(np.ascontiguousarray(crop), dpi)
    ]
    return [_label_of(field, fields, words, dpi) for field in fields]


def read_words(image: np.ndarray, dpi: int) -> list[Word]:
    """The words Tesseract reads on an image (sparse text), confident ones only.

    Args:
        image: uint8 (H, W), dark print on white.
        dpi: its resolution (Tesseract sizes its expectations from it).

    Raises:
        ConfigurationError: Tesseract is not installed, fails or takes over a minute.
    """
    if not tesseract_available():
        raise ConfigurationError("tesseract is not installed", remedy=TESSERACT_FIX)
    ok, png = cv2.imencode(".png", image)
    assert ok
    command = ["tesseract", "stdin", "stdout", "--psm", "11", "--dpi", str(dpi), "tsv"]
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # its threads only fight ours on few cores
    try:
        done = subprocess.run(
            command, input=png.tobytes(), capture_output=True, timeout=60, env=env, check=False
        )
    except subprocess.TimeoutExpired as e:
        raise ConfigurationError("tesseract took over 60 s", remedy=TESSERACT_FIX) from e
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["failed"]
        raise ConfigurationError(f"tesseract failed: {message[0]}", remedy=TESSERACT_FIX)
    return _parse_tsv(done.stdout.decode("utf-8", errors="replace"))


def _parse_tsv(text: str) -> list[Word]:
    words = []
    for line in text.splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) < 12 or not parts[11].strip():
            continue
        confidence = float(parts[10])
        x, y, w, h = (int(v) for v in parts[6:10])
        if confidence >= 10 and any(c.isalnum() for c in parts[11]):
            words.append(Word(parts[11].strip(), (x, y, x + w, y + h), confidence))
    return words


def _zones(field: FieldSpec, dpi: int) -> list[Box]:
    """Where a field's label may be printed: above it, left of it, right of a tick box."""
    x0, y0, x1, y1 = field.box
    above = (x0 - dpi // 10, y0 - round(0.45 * dpi), x1 + dpi, y0)
    left = (x0 - round(2.5 * dpi), y0 - dpi // 20, x0, y1 + dpi // 20)
    zones = [above, left]
    if field.kind == "mark":
        zones.append((x1, y0 - dpi // 20, x1 + round(2.5 * dpi), y1 + dpi // 20))
    return zones


def _label_strips(page: np.ndarray, fields: Sequence[FieldSpec], dpi: int) -> np.ndarray:
    """uint8 (H, W): the page white everywhere but the label zones, boxes and lines whited out."""
    keep = np.zeros(page.shape, bool)
    for field in fields:
        for x0, y0, x1, y1 in _zones(field, dpi):
            keep[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)] = True
    for x0, y0, x1, y1 in (f.box for f in fields):
        grow = dpi // 50
        keep[max(0, y0 - grow) : y1 + grow, max(0, x0 - grow) : x1 + grow] = False
    # Binarised here, from the kept pixels alone: whited-out areas beside grey paper would
    # otherwise split Tesseract's own threshold between paper and white.
    shown = page[keep]
    if shown.size == 0:
        return np.full(page.shape, 255, np.uint8)
    level, _ = cv2.threshold(shown.reshape(1, -1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    dark = (keep & (page <= level)).astype(np.uint8)  # Otsu: above the level is paper
    out = np.where(dark > 0, 0, 255).astype(np.uint8)
    reach = max(8, dpi // 8)
    lines = np.maximum(
        cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((1, reach), np.uint8)),
        cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((reach, 1), np.uint8)),
    )
    out[cv2.dilate(lines, np.ones((3, 3), np.uint8)) > 0] = 255
    return out


def _label_of(field: FieldSpec, fields: Sequence[FieldSpec], words: list[Word], dpi: int) -> str:
    """The label of one field: the nearest line of words left of it, or above it, or right."""
    x0, y0, x1, _ = field.box
    near = dpi // 2
    if field.kind == "mark":
        right = [w for w in words if _beside(w.box, field.box) and 0 <= w.box[0] - x1 <= near]
        if right:
            return _phrase(right, min(right, key=lambda w: w.box[0]), +1, fields, field, dpi)
    left = [w for w in words if _beside(w.box, field.box) and 0 <= x0 - w.box[2] <= near]
    if left:
        return _phrase(left, max(left, key=lambda w: w.box[2]), -1, fields, field, dpi)
    above = [
        w
        for w in words
        if 0 <= y0 - w.box[3] <= 0.45 * dpi and x0 - dpi // 10 <= w.box[0] < x1 - dpi // 20
    ]
    if not above:
        return ""
    nearest = max(above, key=lambda w: (w.box[3], -w.box[0]))
    row = [w for w in words if _same_row(w.box, nearest.box) and w.box[3] <= y0]
    first = min((w for w in row if w.box[0] >= x0 - dpi // 10), key=lambda w: w.box[0])
    return _phrase(row, first, +1, fields, field, dpi, over=x1)


def _phrase(
    row: list[Word],
    first: Word,
    step: int,
    fields: Sequence[FieldSpec],
    own: FieldSpec,
    dpi: int,
    over: int = -1,
) -> str:
    """The words of ``row`` that run on from ``first`` (rightwards for step +1, else left).

    A phrase stops at a gap over a word's height and a half (words starting before ``over``,
    still above the field's own box, are the label's whatever the gap), or at a word over
    another field (that field's own label).
    """
    ordered = sorted(row, key=lambda w: step * w.box[0])
    start = ordered.index(first)
    phrase = [first]
    for word in ordered[start + 1 :]:
        last = phrase[-1]
        gap = word.box[0] - last.box[2] if step > 0 else last.box[0] - word.box[2]
        tall = max(last.box[3] - last.box[1], word.box[3] - word.box[1])
        if (gap > 1.5 * tall and word.box[0] >= over) or gap < -tall:
            break
        if any(f is not own and _over(word.box, f.box, dpi) for f in fields):
            break
        phrase.append(word)
    if step < 0:
        phrase.reverse()
    return " ".join(w.text for w in phrase)


def _beside(word: Box, box: Box) -> bool:
    """True when a word's middle lies within the box's rows."""
    middle = (word[1] + word[3]) / 2
    return box[1] <= middle <= box[3]


def _same_row(a: Box, b: Box) -> bool:
    return min(a[3], b[3]) - max(a[1], b[1]) > 0.5 * min(a[3] - a[1], b[3] - b[1])


def _over(word: Box, box: Box, dpi: int) -> bool:
    """True when a word starts over a box's left part, just above it: that box's label."""
    return box[0] - dpi // 10 <= word[0] < box[2] and 0 <= box[1] - word[3] <= 0.45 * dpi
