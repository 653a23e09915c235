"""The model card, rendered from templates/card.md.j2."""

import json
from pathlib import Path

import pytest

from ocr_core.training.card import render_card

MODELS = Path(__file__).resolve().parents[3] / "data" / "models"


@pytest.mark.parametrize("name", ["digits", "alnum"])
def test_card_renders_as_shipped(name: str) -> None:
    meta = json.loads((MODELS / name / "bundle.json").read_text())
    card = render_card(name, meta)
    # The shipped card is this one plus the form thresholds section calibration appends.
    assert (MODELS / name / "README.md").read_text().startswith(card)
    assert card.startswith(f"# Model card: `{name}`\n")
    assert f"- Written {meta['written']}.\n" in card
    assert ("cannot tell their case unless a" in card) == (name == "alnum")


def test_card_of_a_small_bundle(tmp_path: Path) -> None:
    meta = json.loads((MODELS / "digits" / "bundle.json").read_text())
    meta["training"] = {**meta["training"], "init_from": None, "form_crops": [], "seed": 3}
    card = render_card("tiny", meta)
    assert "`python -m ocr_core.training --bundle digits" in card
    assert "--seed 3 --no-augment --no-reviewed --out data/models/tiny`" in card
    assert "Fine-tuned from" not in card and "Form crops:" not in card
    assert "| val (tuning) | " in card and "| MNIST test accuracy | >= 99.65% |" in card
