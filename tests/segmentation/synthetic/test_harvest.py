from collections import Counter
from pathlib import Path

import numpy as np

from ocr_core.training.corpus import ALNUM47, DIGITS
from ocr_core.training.crop_file import read_crop_file
from ocr_core.training.datasets import read_idx
from segmentation import Template
from segmentation.synthetic import GlyphPool, load_glyph_pool, make_document
from segmentation.synthetic.harvest import harvest, main
from tests.ocr_core.conftest import make_tiny_datasets


def test_harvest_labels_each_crop_with_the_character_written_there(
    templates: dict[str, Template], drawn_pool: GlyphPool
) -> None:
    forms = list(templates.values())
    images, chars, counts = harvest(forms, drawn_pool, np.random.default_rng(5), 3)
    assert images.dtype == np.uint8 and images.shape == (len(chars), 28, 28)
    assert counts["pages"] == 3 and counts["unregistered"] == 0
    assert counts["comb"] + counts["boxes"] == len(chars)
    # The same seed writes the same forms: every crop's label is a character written on them,
    # and nearly every written character gives a crop.
    _, records = make_document(forms, drawn_pool, np.random.default_rng(5), 3)
    written = Counter(c["char"] for r in records for f in r["fields"] for c in f["chars"])
    got = Counter(chars.tolist())
    assert not got - written
    assert got.total() >= 0.95 * written.total()
    # Crops are model inputs: ink framed in the middle, nothing touching the edges.
    assert images[:, 4:24, 4:24].sum() > 0.95 * images.sum()


def test_command_writes_a_crop_file_of_training_handwriting(tmp_path: Path) -> None:
    data = make_tiny_datasets(tmp_path / "datasets", pool=1000)  # every letter written
    out = tmp_path / "crops.npz"
    templates = Path(__file__).resolve().parents[3] / "data" / "templates"
    argv = ["--pages", "2", "--seed", "3", "--templates", str(templates)]
    assert main([*argv, "--data-dir", str(data), "--out", str(out)]) == 0
    digits, meta = read_crop_file(out, DIGITS)
    alnum, _ = read_crop_file(out, ALNUM47)
    assert meta["pages"] == 2 and meta["seed"] == 3 and "train split" in meta["handwriting"]
    assert 0 < len(digits) < len(alnum) == meta["counts"]["comb"] + meta["counts"]["boxes"]


def test_train_split_handwriting_leaves_out_the_held_back_slice(tmp_path: Path) -> None:
    data = make_tiny_datasets(tmp_path / "datasets", mnist_train=400, pool=30)
    pool_digits = {
        split: int(
            (read_idx(data / f"emnist/pool/emnist-pool-{split}-labels62-idx1-ubyte.gz") < 10).sum()
        )
        for split in ("train", "val")
    }
    for split, mnist in (("train", 360), ("val", 40)):  # MNIST train less / only its val tenth
        pool = load_glyph_pool(data, split)
        assert sum(len(pool.glyphs[c]) for c in DIGITS) == mnist + pool_digits[split], split


def test_harvest_cuts_pages_drawn_in_random_styles(
    templates: dict[str, Template], drawn_pool: GlyphPool
) -> None:
    forms = list(templates.values())
    _, records = make_document(forms, drawn_pool, np.random.default_rng(11), 4, randomise=True)
    assert (
        len({r["style"]["cells"] for r in records} | {r["style"]["thickness"] for r in records}) > 2
    )
    _, chars, counts = harvest(forms, drawn_pool, np.random.default_rng(11), 4, randomise=True)
    assert counts["pages"] == 4 and counts["unregistered"] == 0
    written = Counter(c["char"] for r in records for f in r["fields"] for c in f["chars"])
    assert not Counter(chars.tolist()) - written
    assert len(chars) >= 0.9 * written.total()
