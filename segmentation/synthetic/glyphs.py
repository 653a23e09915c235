"""Real handwriting to fill forms with: MNIST/EMNIST characters of one split."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ocr_core.settings import load_settings
from ocr_core.training.corpus import mnist_val_mask
from ocr_core.training.datasets import emnist_upright, read_idx, read_mapping


@dataclass(frozen=True, slots=True)
class GlyphPool:
    """Real handwritten characters, upright, white ink on black, uint8 (N, 28, 28) per character.

    Attributes:
        glyphs: character to its images (MNIST test digits, EMNIST pool test split letters).
    """

    glyphs: dict[str, np.ndarray]


def load_glyph_pool(datasets_dir: Path | None = None, split: str = "test") -> GlyphPool:
    """Read the handwriting of one split to write forms with.

    Args:
        datasets_dir: folder holding mnist/ and emnist/ (default: the settings' datasets_dir).
        split: ``test``: the MNIST test set and the EMNIST pool test split, for benchmarks and
            demos. ``val``: the MNIST train images that training holds back for validation
            (``mnist_val_mask``, the same slice whatever a run's seed) and the pool's val split,
            for tuning (review thresholds) without touching the test handwriting. ``train``:
            the rest of MNIST train and the pool's train split, the only handwriting whose form
            crops may be trained on.

    Returns:
        The pool; letters come only from images whose case is known (62-class labels).

    Raises:
        ConfigurationError: the datasets folder is missing; InputFileError: a file is corrupt.
        ValueError: an unknown split.
    """
    if split not in ("test", "val", "train"):
        raise ValueError(f"split must be test, val or train, not {split!r}")
    root = Path(datasets_dir) if datasets_dir else load_settings().require_datasets_dir()
    stem = "t10k" if split == "test" else "train"
    images = read_idx(root / "mnist" / f"{stem}-images-idx3-ubyte.gz")
    labels = read_idx(root / "mnist" / f"{stem}-labels-idx1-ubyte.gz")
    if split != "test":
        held = mnist_val_mask(len(images))
        keep = held if split == "val" else ~held
        images, labels = images[keep], labels[keep]
    glyphs = {str(d): [images[labels == d]] for d in range(10)}
    pool = root / "emnist" / "pool"
    e_images = emnist_upright(read_idx(pool / f"emnist-pool-{split}-images-idx3-ubyte.gz"))
    e_labels = read_idx(pool / f"emnist-pool-{split}-labels62-idx1-ubyte.gz")
    mapping = read_mapping(root / "emnist" / "emnist-byclass-mapping.txt")
    for label, char in mapping.items():
        glyphs.setdefault(char, []).append(e_images[e_labels == label])
    return GlyphPool({c: np.concatenate(parts) for c, parts in glyphs.items()})
