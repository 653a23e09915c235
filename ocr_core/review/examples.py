"""The reviewed-examples store: crops a person confirmed, each with its label, who and when."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ocr_core.files import write_atomic
from ocr_core.results.csvfiles import read_csv_rows, write_csv
from ocr_core.results.model_inputs import read_model_input
from ocr_core.results.records import CharKey

REVIEWED_LABELS: Final = "labels.csv"
REVIEWED_COLUMNS: Final = (
    "image",
    "label",
    "run",
    "document",
    "page",
    "field",
    "index",
    "reviewer",
    "reviewed_at",
    "charset",
)


@dataclass(frozen=True, slots=True)
class Example:
    """A crop's model input (in a run folder) with the label a person confirmed.

    ``source`` is the file that holds it and ``tile`` its place there
    (``ocr_core.results.model_inputs``); a tile of None is the whole file.
    """

    source: Path
    tile: int | None
    label: str  # empty: withdraw an earlier label of this crop (its field no longer pairs)
    run: str
    key: CharKey
    reviewer: str
    reviewed_at: str
    charset: str = ""  # the field's; "" where it is not known (see ``case_unknown``)


@dataclass(frozen=True, slots=True)
class StoreCounts:
    """What storing examples did."""

    added: int
    relabelled: int
    withdrawn: int


def store_examples(reviewed_dir: Path, examples: Iterable[Example]) -> StoreCounts:
    """Add confirmed crops to ``reviewed_dir``; a later label for a crop replaces the earlier.

    Images are ``images/<sha256>.png`` (the 28x28 model input, white ink on black) listed in
    ``labels.csv``, each with its field's charset: a look-alike letter confirmed in a field
    that reads both its cases as one is trained as either case
    (``ocr_core.recognition.charset.case_unknown``). A crop already listed keeps its row (so
    a training run that resumes by reading the same number of rows reads the same crops): a
    new label replaces its label, reviewer and time, and an empty one withdraws it (the row
    stays with an empty label, which training skips). The listing is rewritten atomically.

    Returns:
        How many crops were added, relabelled and withdrawn.

    Raises:
        OutputError: the folder or the listing could not be written.
    """
    listing = reviewed_dir / REVIEWED_LABELS
    rows = read_csv_rows(listing) if listing.exists() else []
    where = {row["image"]: i for i, row in enumerate(rows)}
    added = relabelled = withdrawn = 0
    for example in examples:
        data = read_model_input(example.source, example.tile)
        if data is None:
            continue
        name = f"images/{hashlib.sha256(data).hexdigest()}.png"
        document, page, field, index = example.key
        row = {
            "image": name,
            "label": example.label,
            "run": example.run,
            "document": document,
            "page": str(page),
            "field": field,
            "index": str(index),
            "reviewer": example.reviewer,
            "reviewed_at": example.reviewed_at,
            "charset": example.charset,
        }
        if name in where:
            old = rows[where[name]]
            if old.get("label", "") == example.label:
                continue
            withdrawn += not example.label
            relabelled += bool(example.label)
            rows[where[name]] = row
        elif example.label:
            write_atomic(reviewed_dir / name, data)  # makes its folder
            where[name] = len(rows)
            rows.append(row)
            added += 1
    if added or relabelled or withdrawn:
        table = ([row.get(c, "") for c in REVIEWED_COLUMNS] for row in rows)
        write_csv(listing, REVIEWED_COLUMNS, table)
    return StoreCounts(added, relabelled, withdrawn)
