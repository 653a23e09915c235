"""Choosing the review thresholds for forms, on forms written with validation handwriting."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

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
    assert (
        Recognisers(models, threshold=0.3).threshold_for("digits") == 0.3
    )  # an override still wins
    card = (models / "digits" / "README.md").read_text()
    assert card.count("## Review threshold on forms") == 1
    assert f"**{written['digits']['threshold']:.4f}**" in card


def test_validation_handwriting_is_not_the_test_handwriting(datasets_dir: Path) -> None:
    val, test = load_glyph_pool(datasets_dir, "val"), load_glyph_pool(datasets_dir, "test")
    for char in "07AZ":
        seen = {image.tobytes() for image in test.glyphs[char]}
        assert not any(image.tobytes() in seen for image in val.glyphs[char][:500])
    assert len(val.glyphs["0"]) > 1000
