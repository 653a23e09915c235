"""Choose the bundles' review thresholds for forms, on forms written with validation handwriting.

A bundle's own threshold is chosen on isolated characters, each bundle bounding the error among
the characters it accepts there. On a form, crops are harder (neighbours' strokes, erased lines,
scan noise) and a clerk wants a bound on all accepted characters together, and above all on
the fields: a value is right or wrong as a whole. This writes two thresholds into each
bundle's ``pipeline`` section, measured on freshly generated forms filled with the
*validation* handwriting (never the test split the benchmarks use), read through the same code
as ``digitise-forms``:

- ``threshold``: a character under it is uncertain (marked for the reviewer). The pair of
  thresholds that flags the fewest characters while keeping the error among accepted ones at
  most ``--target-error``. The default, 0.15%, keeps a margin under the 0.2% (99.8% accuracy
  among accepted characters) that the pipeline promises on forms it has never seen.
  Thresholds chosen exactly at 0.2% on 300 validation forms gave 0.23% on 150 test forms; on
  ~8,000 accepted characters the error's binomial standard deviation alone is about 0.05
  points.
- ``field_threshold``: a field whose characters' confidences multiply to less goes to review.
  Each bundle's own: the lowest that keeps the share of wrong fields among the bundle's
  accepted fields at most ``--field-target-error`` (default 0.25%, under the 0.5% promised:
  nearly three standard deviations of sampling noise on ~1,000 accepted fields), so that a
  form of names alone gets the bound its fields meet. A field is wrong when any character is
  misread, missed or made up, so the bound covers what segmentation gets wrong too; a field
  that a validator or segmentation flags anyway counts as flagged.

The flow and command line that run this are in ``flows/thresholds.py``.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ocr_core.files import write_atomic
from ocr_core.reading.fields import assemble_value, rules_of, validate_value
from ocr_core.reading.page import read_page
from ocr_core.reading.recognisers import Recognisers
from ocr_core.recognition.bundle import write_pipeline_section
from ocr_core.recognition.calibration import (
    MIN_THRESHOLD,
    choose_joint_thresholds,
    choose_threshold,
)
from ocr_core.results.records import CharReading
from segmentation import Template
from segmentation.records import FieldCrops
from segmentation.synthetic import GlyphPool, match_crops
from segmentation.synthetic.harvest import cut_forms

TARGET_ERROR = 0.0015  # under the promised 0.2%, by about the sampling noise (see above)
FIELD_TARGET_ERROR = 0.0025  # under the promised 0.5% (see above)

Samples = dict[str, tuple[np.ndarray, np.ndarray]]


def collect(
    templates: Sequence[Template],
    pool: GlyphPool,
    recognisers: Recognisers,
    pages: int,
    seed: int,
    random_pages: int = 0,
) -> tuple[Samples, Samples]:
    """Generate, segment and read forms; per bundle, its characters' and its fields' samples.

    ``pages`` forms are drawn as we print them and ``random_pages`` more in random styles
    (frames, cells, shade, marks, writing size and spacing), as users' own forms are.
    A character sample is a crop's confidence and whether it was read right; a crop that
    matches no written character (a speck read as a letter) counts as wrong. A field sample is
    the product of its characters' confidences and whether the field was read exactly: every
    written character found once and read right, nothing else read (see ``_field_sample``).
    """
    chars: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    fields: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    rng = np.random.default_rng(seed)
    forms = itertools.chain(
        cut_forms(templates, pool, rng, pages),
        cut_forms(templates, pool, rng, random_pages, randomise=True),
    )
    for result, record in forms:
        if result is None:
            continue
        result, readings = read_page(result, recognisers)
        for f, (crops, truth) in enumerate(zip(result.fields, record["fields"], strict=True)):
            ok = [c for c, char in enumerate(crops.chars) if char.status == "ok"]
            written = dict(match_crops(crops, truth))
            bundle = recognisers.bundle_for(crops.charset)
            for position, c in enumerate(ok):
                reading = readings[(f, c)]
                chars[bundle].append((reading.probs[0], reading.labels[0] == written.get(position)))
            sample = _field_sample(crops, [readings[(f, c)] for c in ok], written, truth)
            if sample is not None and not crops.validation.choices:
                fields[bundle].append(sample)
    return _arrays(chars), _arrays(fields)


def _field_sample(
    crops: FieldCrops, read: Sequence[CharReading], written: dict[int, str], truth: dict
) -> tuple[float, bool] | None:
    """A character field's chance of being right as read, and whether it was; None when blank.

    The chance is 0 for a field that goes to review whatever its confidences: its validators
    fail it, or segmentation already doubted it.

    Args:
        crops: the field as segmented.
        read: its characters as read, in order.
        written: position among them -> the character written there (``match_crops``).
        truth: the field as the generator wrote it (``chars``: every character written).
    """
    count = len(truth.get("chars") or [])
    if not read and not count:
        return None
    right = len(written) == count == len(read) and all(
        read[position].labels[0] == char for position, char in written.items()
    )
    indices = [char.index for char in crops.chars if char.status == "ok"]
    value = assemble_value(zip(indices, (r.labels[0] for r in read), strict=True))
    if crops.reason or crops.doubt or validate_value(value, rules_of(crops)):
        return 0.0, right
    return math.prod(r.probs[0] for r in read), right


def _arrays(found: dict[str, list[tuple[float, bool]]]) -> Samples:
    return {
        name: (np.array([p for p, _ in rows]), np.array([ok for _, ok in rows], bool))
        for name, rows in found.items()
    }


@dataclass(frozen=True, slots=True)
class Share:
    """Samples (characters or fields) read, the share flagged, and the error among the rest."""

    count: int
    flagged: float
    error: float

    @classmethod
    def of(cls, confidence: np.ndarray, correct: np.ndarray, threshold: float) -> Share:
        """Measure accepting ``confidence >= threshold``."""
        keep = confidence >= threshold
        error = float((~correct[keep]).mean()) if keep.any() else 0.0
        return cls(len(confidence), float(1 - keep.mean()) if len(keep) else 0.0, error)


@dataclass(frozen=True, slots=True)
class Choice:
    """Thresholds of one kind, one per bundle, and what they do: per bundle, and together."""

    bounds: dict[str, float]
    own: dict[str, Share]
    overall: Share

    @classmethod
    def of(
        cls, samples: Samples, target: float, floors: dict[str, float], joint: bool = True
    ) -> Choice:
        """The bounds chosen over these samples, and what they do there.

        ``joint``: together (``choose_joint_thresholds``); else each bundle's alone, so that
        each meets ``target`` by itself.
        """
        if joint:
            bounds = choose_joint_thresholds(samples, target, floors)
        else:
            bounds = {
                name: choose_threshold(confidence, correct, target, floors[name])
                for name, (confidence, correct) in samples.items()
            }
        overall = Share.of(  # confidence over each bundle's own bound: accepted when >= 0
            np.concatenate([c - bounds[name] for name, (c, _) in samples.items()]),
            np.concatenate([ok for _, ok in samples.values()]),
            0.0,
        )
        own = {name: Share.of(c, ok, bounds[name]) for name, (c, ok) in samples.items()}
        return cls(bounds, own, overall)


def choose_thresholds(
    models_dir: Path,
    templates: Sequence[Template],
    pool: GlyphPool,
    *,
    pages: int,
    seed: int,
    target_error: float,
    random_pages: int = 0,
    field_target_error: float = FIELD_TARGET_ERROR,
) -> dict[str, dict[str, object]]:
    """Choose and write every shipped bundle's ``pipeline`` section; return what was written.

    Two thresholds per bundle: a character's (under it, a character is uncertain), chosen for
    ``target_error`` among all accepted characters; and a field's, on the product of its
    characters' confidences (under it, the field goes to review), chosen for
    ``field_target_error`` among all accepted fields. The section also goes, as prose, at the
    end of the bundle's model card. ``pages`` forms in the house style and ``random_pages`` in
    random styles are read (see ``collect``).
    """
    recognisers = Recognisers(models_dir)
    samples, field_samples = collect(templates, pool, recognisers, pages, seed, random_pages)
    floors = {name: recognisers.bundles[name].threshold for name in samples}
    chars = Choice.of(samples, target_error, floors)
    # Each bundle's fields alone: a form of names alone gets the bound that its fields meet.
    field_floors = dict.fromkeys(field_samples, MIN_THRESHOLD)
    fields = Choice.of(field_samples, field_target_error, field_floors, joint=False)
    forms = {
        "pages": pages,
        "random_style_pages": random_pages,
        "seed": seed,
        "templates": sorted({t.name for t in templates}),
        "handwriting": HANDWRITING,
    }
    written = {}
    for name in samples:
        section = _section(name, chars, target_error, fields, field_target_error)
        section["forms"] = forms
        folder = recognisers.bundles[name].path
        write_pipeline_section(folder, section)
        card = folder / "README.md"
        if card.is_file():
            text = _card_text(name, chars, target_error, fields, field_target_error, forms)
            write_atomic(card, with_card_section(card.read_text(), text).encode())
        written[name] = section
    return written


def _up(bound: float) -> float:
    return math.ceil(bound * 1e6) / 1e6  # rounded up: never under its floor


def _section(
    name: str, chars: Choice, target: float, fields: Choice, field_target: float
) -> dict[str, object]:
    own = chars.own[name]
    section: dict[str, object] = {
        "threshold": _up(chars.bounds[name]),
        "target_error": target,
        "characters": own.count,
        "flagged": round(own.flagged, 4),
        "error_among_accepted": round(own.error, 5),
        "all_bundles": {
            "characters": chars.overall.count,
            "flagged": round(chars.overall.flagged, 4),
            "error_among_accepted": round(chars.overall.error, 5),
        },
    }
    if name in fields.bounds:
        field = fields.own[name]
        section["field_threshold"] = _up(fields.bounds[name])
        section["fields"] = {
            "target_error": field_target,
            "fields": field.count,
            "flagged": round(field.flagged, 4),
            "error_among_accepted": round(field.error, 5),
            "all_bundles": {
                "fields": fields.overall.count,
                "flagged": round(fields.overall.flagged, 4),
                "error_among_accepted": round(fields.overall.error, 5),
            },
        }
    return section


CARD_HEADING = "## Review threshold on forms"
HANDWRITING = "validation splits (MNIST held-back slice, EMNIST pool val)"


def _card_text(
    name: str,
    chars: Choice,
    target: float,
    fields: Choice,
    field_target: float,
    forms: dict[str, object],
) -> str:
    own, overall = chars.own[name], chars.overall
    text = (
        f"`digitise-forms` marks a character of this bundle uncertain under "
        f"**{chars.bounds[name]:.4f}** (`pipeline.threshold` in `bundle.json`; the default "
        f"threshold above is for isolated characters). Chosen by `python -m flows.thresholds` on "
        f"{forms['pages']} generated forms in the house style and "
        f"{forms['random_style_pages']} in random styles (templates {forms['templates']}, "
        f"seed {forms['seed']})"
        f" written with the {HANDWRITING}: of the thresholds that keep the error among all "
        f"accepted characters at most {target:.2%}, those flagging the fewest. Measured there: "
        f"this bundle {own.count} characters, {own.flagged:.1%} flagged, {own.error:.2%} "
        f"error among the rest; all bundles {overall.count} characters, "
        f"{overall.flagged:.1%} flagged, {overall.error:.2%} error among the rest.\n"
    )
    if name not in fields.bounds:
        return text
    field, together = fields.own[name], fields.overall
    return text + (
        f"\nA field of this bundle goes to review when the product of its characters' "
        f"confidences is under **{fields.bounds[name]:.4f}** (`pipeline.field_threshold`), "
        f"or a validator fails it; its uncertain characters are then the ones shown. Chosen on "
        f"the same forms: the lowest bound that keeps the share of wrong fields (a character "
        f"misread, missed or made up) among this bundle's accepted fields at most "
        f"{field_target:.2%}, fields that a validator or segmentation flags anyway counted as "
        f"flagged. Measured there: "
        f"this bundle {field.count} fields, {field.flagged:.1%} flagged, "
        f"{field.error:.2%} wrong among the rest; all bundles {together.count} fields, "
        f"{together.flagged:.1%} flagged, {together.error:.2%} wrong among the rest.\n"
    )


def with_card_section(card: str, text: str) -> str:
    """The model card with its forms-threshold section (``text``) written or replaced at the end."""
    head = card.split(CARD_HEADING)[0].rstrip("\n")
    return f"{head}\n\n{CARD_HEADING}\n\n{text}"
