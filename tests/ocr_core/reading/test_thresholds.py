"""Choosing the review thresholds for forms, on forms written with validation handwriting."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from ocr_core.reading.recognisers import Recognisers
from ocr_core.reading.thresholds import choose_thresholds
from segmentation import load_templates
from segmentation.synthetic import load_glyph_pool

ROOT = Path(__file__).resolve().parents[3]


def test_chosen_pipeline_thresholds_are_written_and_applied(
    datasets_dir: Path, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    shutil.copytree(ROOT / "data" / "models", models)
    templates = load_templates([ROOT / "data" / "templates"])
    pool = load_glyph_pool(datasets_dir, split="val")
    written = choose_thresholds(
        models, templates, pool, pages=4, seed=3, target_error=0.01, random_pages=2
    )
    assert set(written) == {"digits", "alnum"}
    recognisers = Recognisers(models)
    for name, charset in (("digits", "digits"), ("alnum", "upper")):
        meta = json.loads((models / name / "bundle.json").read_text())
        section = meta["pipeline"]
        assert section == written[name]
        assert section["threshold"] >= meta["threshold"]  # never laxer than the bundle's own
        assert section["forms"]["pages"] == 4 and section["forms"]["random_style_pages"] == 2
        assert section["characters"] > 20
        assert recognisers.threshold_for(charset) == section["threshold"]
        assert 0.5 <= section["field_threshold"] <= 1.0
        assert section["fields"]["fields"] > 5
        assert recognisers.field_threshold_for(charset) == section["field_threshold"]
    assert (
        Recognisers(models, threshold=0.3).threshold_for("digits") == 0.3
    )  # an override still wins
    card = (models / "digits" / "README.md").read_text()
    assert card.count("## Review threshold on forms") == 1
    assert f"**{written['digits']['threshold']:.4f}**" in card
    assert f"**{written['digits']['field_threshold']:.4f}** (`pipeline.field_threshold`)" in card


def test_validation_handwriting_is_not_the_test_handwriting(datasets_dir: Path) -> None:
    val, test = load_glyph_pool(datasets_dir, "val"), load_glyph_pool(datasets_dir, "test")
    for char in "07AZ":
        seen = {image.tobytes() for image in test.glyphs[char]}
        assert not any(image.tobytes() in seen for image in val.glyphs[char][:500])
    assert len(val.glyphs["0"]) > 1000


def test_a_field_goes_to_review_by_the_product_of_its_confidences(tmp_path: Path) -> None:
    """On a real page (the HSF sample), each field's flag follows its bundle's field threshold."""
    from ocr_core.reading.document import digitise_document

    models = tmp_path / "models"
    shutil.copytree(ROOT / "data" / "models", models)
    for name, bound in (("digits", 0.97), ("alnum", 0.99)):
        meta = json.loads((models / name / "bundle.json").read_text())
        meta["pipeline"]["field_threshold"] = bound
        (models / name / "bundle.json").write_text(json.dumps(meta))
    recognisers = Recognisers(models)
    templates = load_templates([ROOT / "data" / "templates" / "nist-hsf.yaml"])
    page = ROOT / "data" / "samples" / "nist-hsf-f0000_14.png"
    doc = digitise_document(page, "hsf", templates, recognisers, tmp_path / "run", slot=0)
    charsets = {f.name: f.charset for f in templates[0].fields}
    checked = 0
    for field in doc.fields:
        chars = [c for c in doc.chars if c.field == field.field]
        if not chars or ("uncertain" not in field.reason and field.needs_review):
            continue  # nothing read, or flagged for another reason (a validator, the cut)
        field_bound = recognisers.field_threshold_for(charsets[field.field])
        assert field_bound in (0.97, 0.99)
        doubtful = float(np.prod([c.confidence for c in chars])) < field_bound
        assert field.needs_review == doubtful, field
        assert any(c.needs_review for c in chars) == doubtful  # only flagged fields show any
        checked += 1
    assert checked > 20
    assert recognisers.field_threshold_for("digits") == 0.97
    assert Recognisers(models, threshold=0.9).field_threshold_for("digits") is None
