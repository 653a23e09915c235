"""Reviewed characters (apply-review's PNG + labels.csv folder) as extra training examples."""

from __future__ import annotations

import csv
import itertools
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import cv2
import numpy as np

from ocr_core.errors import InputFileError
from ocr_core.recognition.charset import both_cases, case_unknown
from ocr_core.recognition.normalise import SIZE, frame_characters
from ocr_core.settings import load_settings
from ocr_core.training.corpus import EITHER_CASE, CharacterSet, to_bundle_space

log = logging.getLogger(__name__)

# The listing apply-review (flows/reviewing.py) appends to; ocr_core never imports flows.
REVIEWED_LABELS: Final = "labels.csv"
# Our CSV writers prefix a cell starting with one of these with an apostrophe (no spreadsheet
# runs it as a formula); a label read back drops it again.
FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class ReviewedExamples:
    """The reviewed characters of a reviewed folder that fit one bundle.

    Attributes:
        examples: uint8 (N, 28, 28) framed, white ink on black, with targets in the bundle's space.
        folder: the folder that was read.
        rows: the ``labels.csv`` rows read, skipped ones included. apply-review appends new
            crops and relabels a crop in its own row (an empty label withdraws it), so reading
            this many rows again gives the same crops, with their latest labels.
        skipped: rows left out, by reason (``missing image``, ``unreadable image``,
            ``not 28x28 grayscale``, ``label outside the bundle``).
    """

    examples: CharacterSet
    folder: Path
    rows: int
    skipped: dict[str, int]


def load_reviewed(
    folder: Path, labels: tuple[str, ...], *, max_rows: int | None = None
) -> ReviewedExamples:
    """Read reviewed crops and their confirmed labels, as apply-review writes them.

    The folder holds ``labels.csv`` (columns ``image`` and ``label``, among others) and the
    images it names (``images/<sha256>.png``: the 28x28 model inputs). A row whose image is
    missing, unreadable or not a 28x28 8-bit grayscale image, or whose label is outside the
    bundle's label space, is skipped and counted (one warning), never fatal. Labels map to the
    bundle's space with ``to_bundle_space`` (``c`` counts as ``C`` in the 47-class space); in
    the 62-class space a look-alike letter from a field that allows both its cases is trained
    as either case (``_targets``).

    Args:
        folder: the reviewed folder; a missing folder or one without ``labels.csv`` holds no
            examples.
        labels: the bundle's class labels.
        max_rows: read only the first this many rows (a resumed run reads what it started with).

    Returns:
        The usable examples, how many rows were read and what was skipped.

    Raises:
        InputFileError: ``labels.csv`` is unreadable or lacks the ``image`` or ``label`` column.
    """
    listing = folder / REVIEWED_LABELS
    rows: list[dict[str, str]] = []
    if listing.is_file():
        rows = _read_listing(listing, max_rows)
    else:
        log.info("no %s in %s: no reviewed examples", REVIEWED_LABELS, folder)
    skipped: Counter[str] = Counter()
    images, chars, charsets = [], [], []
    for row in rows:
        image, problem = _read_reviewed_image(folder, row.get("image") or "")
        if image is None:
            skipped[problem] += 1
            continue
        images.append(image)
        chars.append(_plain_cell(row.get("label") or ""))
        charsets.append(_plain_cell(row.get("charset") or ""))
    targets = _targets(chars, charsets, labels)
    keep = targets >= 0
    if (~keep).any():
        skipped["label outside the bundle"] += int((~keep).sum())
    stack = np.stack(images) if images else np.zeros((0, SIZE, SIZE), np.uint8)
    # Framing is idempotent: the model inputs pass through unchanged, as at inference.
    examples = CharacterSet(
        frame_characters(stack[keep]), targets[keep], labels, (f"reviewed:{folder}",)
    )
    if skipped:
        log.warning(
            "%s: skipped %d of %d reviewed rows (%s)",
            listing,
            sum(skipped.values()),
            len(rows),
            ", ".join(f"{reason}: {n}" for reason, n in sorted(skipped.items())),
        )
    return ReviewedExamples(examples, folder, len(rows), dict(skipped))


def _targets(chars: list[str], charsets: list[str], labels: tuple[str, ...]) -> np.ndarray:
    """Each confirmed character's train target in the bundle's space (-1: not in it).

    In a space with both cases, a look-alike letter confirmed in a field that reads both its
    cases as one (or whose charset the row does not record) is of unknown case: its target is
    the letter's ``either_case_groups`` one, right in either case, as the pool's letters of
    unknown case are.
    """
    targets = to_bundle_space(np.array(chars, dtype=str), labels)
    if not both_cases(labels):
        return targets
    for i, (char, charset) in enumerate(zip(chars, charsets, strict=True)):
        if targets[i] >= 0 and case_unknown(char, charset):
            targets[i] = len(labels) + EITHER_CASE.index(char.lower())
    return targets


def _read_listing(path: Path, max_rows: int | None) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = list(itertools.islice(reader, max_rows))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise InputFileError(
            f"cannot read the reviewed-examples listing ({e})",
            path=path,
            remedy="Restore it from apply-review's output, or train with --no-reviewed",
        ) from e
    missing = {"image", "label"} - set(reader.fieldnames or ())
    if missing:
        raise InputFileError(
            f"the reviewed-examples listing has no {' or '.join(sorted(missing))} column",
            path=path,
            remedy="Use the labels.csv written by apply-review, or train with --no-reviewed",
        )
    return rows


def _read_reviewed_image(folder: Path, name: str) -> tuple[np.ndarray | None, str]:
    relative = Path(name)
    path = folder / relative
    # Only files inside the folder: a listing never sends training off to read other files.
    if not name or relative.is_absolute() or ".." in relative.parts or not path.is_file():
        return None, "missing image"
    try:
        data = np.fromfile(path, np.uint8)
        image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    except (OSError, cv2.error):
        image = None
    if image is None:
        return None, "unreadable image"
    if image.dtype != np.uint8 or image.shape != (SIZE, SIZE):
        return None, "not 28x28 grayscale"
    return image, ""


def _plain_cell(text: str) -> str:
    if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES):
        return text[1:]
    return text


def choose_reviewed(reviewed: Path | None = None, *, use: bool = True) -> Path | None:
    """Pick the reviewed-examples folder a training run adds (the CLI and the flow both ask here).

    Args:
        reviewed: a folder named by the user, or None for the default.
        use: False leaves reviewed examples out.

    Returns:
        ``reviewed`` when given; else the settings' ``reviewed_dir`` when it holds
        ``labels.csv``; None when ``use`` is False or there is nothing to add.
    """
    if not use:
        return None
    if reviewed is not None:
        return Path(reviewed)
    default = load_settings().reviewed_dir
    return default if (default / REVIEWED_LABELS).is_file() else None
