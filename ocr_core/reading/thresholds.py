"""Choose the bundles' review thresholds for forms, on forms written with validation handwriting.

A bundle's own threshold is chosen on isolated characters, each bundle bounding the error among
the characters it accepts there. On a form, crops are harder (neighbours' strokes, erased lines,
scan noise) and a clerk wants a bound on all accepted characters together. This writes each
bundle's ``pipeline.threshold``: the pair of thresholds that flags the fewest characters while
keeping the error among accepted ones at most ``--target-error``, measured on freshly generated
forms filled with the *validation* handwriting (never the test split the benchmarks use), read
through the same code as ``digitise-forms``.

The default target, 0.15% error, keeps a margin under the 0.2% (99.8% accuracy among accepted
characters) that the pipeline promises on forms it has never seen. Thresholds chosen exactly at
0.2% on 300 validation forms gave 0.23% on 150 test forms; on ~8,000 accepted characters the
error's binomial standard deviation alone is about 0.05 points.

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
from ocr_core.reading.document import read_page
from ocr_core.reading.recognisers import Recognisers
from ocr_core.recognition.bundle import write_pipeline_section
from ocr_core.recognition.calibration import choose_joint_thresholds
from segmentation import Template
from segmentation.synthetic import GlyphPool, match_crops
from segmentation.synthetic.harvest import cut_forms

TARGET_ERROR = 0.0015  # under the promised 0.2%, by about the sampling noise (see above)

Samples = dict[str, tuple[np.ndarray, np.ndarray]]


def collect(
    templates: Sequence[Template],
    pool: GlyphPool,
    recognisers: Recognisers,
    pages: int,
    seed: int,
    random_pages: int = 0,
) -> Samples:
    """Generate, segment and read forms; per bundle, each crop's confidence and result.

    ``pages`` forms are drawn as we print them and ``random_pages`` more in random styles
    (frames, cells, shade, marks, writing size and spacing), as users' own forms are.
    A crop that matches no written character (a speck read as a letter) counts as wrong.
    """
    found: dict[str, list[tuple[float, bool]]] = defaultdict(list)
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
                found[bundle].append((reading.probs[0], reading.labels[0] == written.get(position)))
    return {
        name: (np.array([p for p, _ in rows]), np.array([ok for _, ok in rows], bool))
        for name, rows in found.items()
    }


@dataclass(frozen=True, slots=True)
class Share:
    """Characters read, the share flagged, and the error among the rest."""

    characters: int
    flagged: float
    error: float

    @classmethod
    def of(cls, confidence: np.ndarray, correct: np.ndarray, threshold: float) -> Share:
        """Measure accepting ``confidence >= threshold``."""
        keep = confidence >= threshold
        error = float((~correct[keep]).mean()) if keep.any() else 0.0
        return cls(len(confidence), float(1 - keep.mean()) if len(keep) else 0.0, error)


def choose_thresholds(
    models_dir: Path,
    templates: Sequence[Template],
    pool: GlyphPool,
    *,
    pages: int,
    seed: int,
    target_error: float,
    random_pages: int = 0,
) -> dict[str, dict[str, object]]:
    """Choose and write every shipped bundle's ``pipeline`` section; return what was written.

    The section also goes, as prose, at the end of the bundle's model card. ``pages`` forms in
    the house style and ``random_pages`` in random styles are read (see ``collect``).
    """
    recognisers = Recognisers(models_dir)
    samples = collect(templates, pool, recognisers, pages, seed, random_pages)
    floors = {name: recognisers.bundles[name].threshold for name in samples}
    chosen = choose_joint_thresholds(samples, target_error, floors)
    overall = Share.of(  # confidence over each bundle's own threshold: accepted when >= 0
        np.concatenate([c - chosen[name] for name, (c, _) in samples.items()]),
        np.concatenate([ok for _, ok in samples.values()]),
        0.0,
    )
    forms = {
        "pages": pages,
        "random_style_pages": random_pages,
        "seed": seed,
        "templates": sorted({t.name for t in templates}),
        "handwriting": HANDWRITING,
    }
    written = {}
    for name, (confidence, correct) in samples.items():
        own = Share.of(confidence, correct, chosen[name])
        section: dict[str, object] = {
            "threshold": math.ceil(chosen[name] * 1e6) / 1e6,  # rounded up: never under its floor
            "target_error": target_error,
            "characters": own.characters,
            "flagged": round(own.flagged, 4),
            "error_among_accepted": round(own.error, 5),
            "all_bundles": {
                "characters": overall.characters,
                "flagged": round(overall.flagged, 4),
                "error_among_accepted": round(overall.error, 5),
            },
            "forms": forms,
        }
        folder = recognisers.bundles[name].path
        write_pipeline_section(folder, section)
        card = folder / "README.md"
        if card.is_file():
            text = _card_text(chosen[name], target_error, forms, own, overall)
            write_atomic(card, with_card_section(card.read_text(), text).encode())
        written[name] = section
    return written


CARD_HEADING = "## Review threshold on forms"
HANDWRITING = "validation splits (MNIST held-back slice, EMNIST pool val)"


def _card_text(
    threshold: float, target: float, forms: dict[str, object], own: Share, overall: Share
) -> str:
    return (
        f"`digitise-forms` flags a character of this bundle for review under "
        f"**{threshold:.4f}** (`pipeline.threshold` in `bundle.json`; the default threshold "
        f"above is for isolated characters). Chosen by `python -m flows.thresholds` on "
        f"{forms['pages']} generated forms in the house style and "
        f"{forms['random_style_pages']} in random styles (templates {forms['templates']}, "
        f"seed {forms['seed']})"
        f" written with the {HANDWRITING}: of the thresholds that keep the error among all "
        f"accepted characters at most {target:.2%}, those flagging the fewest. Measured there: "
        f"this bundle {own.characters} characters, {own.flagged:.1%} flagged, {own.error:.2%} "
        f"error among the rest; all bundles {overall.characters} characters, "
        f"{overall.flagged:.1%} flagged, {overall.error:.2%} error among the rest.\n"
    )


def with_card_section(card: str, text: str) -> str:
    """The model card with its forms-threshold section (``text``) written or replaced at the end."""
    head = card.split(CARD_HEADING)[0].rstrip("\n")
    return f"{head}\n\n{CARD_HEADING}\n\n{text}"
