"""Training, validation and test sets for each bundle, built from MNIST and EMNIST files."""

from __future__ import annotations

import logging
import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

import numpy as np

from ocr_core.errors import ConfigurationError, InputFileError
from ocr_core.recognition.charset import LOOK_ALIKE, both_cases
from ocr_core.recognition.normalise import frame_characters
from ocr_core.training.datasets import emnist_upright, read_idx, read_mapping

log = logging.getLogger(__name__)

DIGITS: Final = tuple(string.digits)
# EMNIST Balanced / ByMerge: 15 letters whose cases look alike are merged into the upper case.
LOWER_KEPT: Final = tuple("abdefghnqrt")
ALNUM47: Final = DIGITS + tuple(string.ascii_uppercase) + LOWER_KEPT
# EMNIST ByClass: both cases of every letter. The alnum bundle learns these, so that a field of
# one case tells a written ``l`` from ``I``; fields of both cases read look-alikes as in ByMerge
# (``ocr_core.recognition.charset``).
ALNUM62: Final = DIGITS + tuple(string.ascii_uppercase) + tuple(string.ascii_lowercase)
BUNDLE_LABELS: Final[dict[str, tuple[str, ...]]] = {"digits": DIGITS, "alnum": ALNUM62}
# The letters that a train target of unknown case, ``len(labels) + k``, stands for: k indexes this.
EITHER_CASE: Final = tuple(sorted(LOOK_ALIKE))
EMNIST_VARIANTS: Final = ("balanced", "byclass", "bymerge", "digits", "letters", "mnist")
POOL_SPLITS: Final = ("train", "val", "test")
# MNIST train images held back for early stopping, calibration and the threshold. The slice is
# the same for every run whatever its seed: bundles compared on val, and the form crops harvested
# from training handwriting, must all leave out the images that val is made of.
MNIST_VAL_SIZE: Final = 5000
MNIST_VAL_SEED: Final = 0


@dataclass(frozen=True, slots=True)
class CharacterSet:
    """Framed character images with class indices into a bundle's labels.

    Attributes:
        images: uint8 (N, 28, 28), upright, white ink on black, framed by the contract.
        targets: int32 (N,), index into ``labels``; in a train set, ``len(labels) + k`` is a
            letter whose case is unknown, right in either case (``either_case_groups``).
        labels: the bundle's class labels.
        sources: what the images came from, e.g. ``("mnist/train[-val]", "emnist-pool/train")``.
    """

    images: np.ndarray
    targets: np.ndarray
    labels: tuple[str, ...]
    sources: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.targets.shape[0])

    def subset(self, keep: np.ndarray) -> CharacterSet:
        """Return the images selected by a bool mask or index array."""
        return CharacterSet(self.images[keep], self.targets[keep], self.labels, self.sources)


def concat(parts: list[CharacterSet]) -> CharacterSet:
    """Join sets that share one label space (the first part's)."""
    return CharacterSet(
        np.concatenate([p.images for p in parts]),
        np.concatenate([p.targets for p in parts]).astype(np.int32),
        parts[0].labels,
        tuple(s for p in parts for s in p.sources),
    )


def add_to_train(
    sets: dict[str, CharacterSet], extra: CharacterSet, repeat: int
) -> dict[str, CharacterSet]:
    """Add examples (reviewed crops, form crops) to the ``train`` set only, each ``repeat`` times.

    Val and the test sets stay as they are, so early stopping, calibration and the reported
    figures are never measured on these examples.

    Args:
        sets: from ``build_sets``.
        extra: examples in the same label space.
        repeat: copies of each example (augmentation distorts each copy differently).

    Returns:
        The sets, ``train`` extended (unchanged when there are no examples).
    """
    if repeat < 1:
        raise ValueError(f"repeat must be at least 1, not {repeat}")
    if len(extra) == 0:
        return sets
    if extra.labels != sets["train"].labels:
        raise ValueError("extra examples are in another label space than the train set")
    copies = np.tile(np.arange(len(extra)), repeat)
    tagged = CharacterSet(
        extra.images[copies],
        extra.targets[copies],
        extra.labels,
        tuple(f"{source} x{repeat}" for source in extra.sources),
    )
    return {**sets, "train": concat([sets["train"], tagged])}


@cache
def _framed(path: Path, transposed: bool) -> np.ndarray:
    # Framing costs ~25 us per EMNIST image, so each file is framed once per process.
    images = read_idx(path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise InputFileError(f"expected uint8 (N, H, W) images, got {images.shape}", path=path)
    return frame_characters(emnist_upright(images) if transposed else images)


def _labels(path: Path, count: int) -> np.ndarray:
    labels = read_idx(path)
    if labels.shape != (count,):
        raise InputFileError(f"{labels.shape[0]} labels for {count} images", path=path)
    return labels.astype(np.int64)


def to_bundle_space(chars: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """Map characters to class indices of a label space, -1 where the space has no class.

    A lower-case letter whose case the space merges (``c`` in the 47-class space) maps to its
    upper-case class.

    Args:
        chars: str (N,) array of single characters ("" for unknown).
        labels: the bundle's class labels.

    Returns:
        int32 (N,) class indices, -1 for characters outside the space.
    """
    index = {c: i for i, c in enumerate(labels)}
    for c in string.ascii_lowercase:
        if c not in index and c.upper() in index:
            index[c] = index[c.upper()]
    lookup = {c: index.get(c, -1) for c in set(chars.tolist())}
    return np.array([lookup[c] for c in chars.tolist()], dtype=np.int32).reshape(chars.shape)


def _make_set(
    images: np.ndarray, chars: np.ndarray, labels: tuple[str, ...], source: str
) -> CharacterSet:
    targets = to_bundle_space(chars, labels)
    keep = targets >= 0
    return CharacterSet(images[keep], targets[keep], labels, (source,))


def load_mnist(datasets_dir: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Load an official MNIST split, framed.

    Args:
        datasets_dir: folder holding ``mnist/``.
        split: ``train`` or ``test`` (the ``t10k`` files).

    Returns:
        uint8 (N, 28, 28) framed images and str (N,) digit characters.

    Raises:
        InputFileError: a file is missing or corrupt.
    """
    stem = {"train": "train", "test": "t10k"}[split]
    images = _framed(datasets_dir / "mnist" / f"{stem}-images-idx3-ubyte.gz", False)
    digits = _labels(datasets_dir / "mnist" / f"{stem}-labels-idx1-ubyte.gz", len(images))
    return images, np.array(DIGITS)[digits]


def load_pool(datasets_dir: Path, split: str, space: int = 47) -> tuple[np.ndarray, np.ndarray]:
    """Load a split of the EMNIST pool, upright and framed.

    Args:
        datasets_dir: folder holding ``emnist/pool/`` and the EMNIST mapping files.
        split: ``train``, ``val`` or ``test``.
        space: 47 (ByMerge labels) or 62 (ByClass labels; unknown case becomes "").

    Returns:
        uint8 (N, 28, 28) framed images and str (N,) characters.

    Raises:
        InputFileError: a file is missing or corrupt.
    """
    if split not in POOL_SPLITS:
        raise ValueError(f"pool split must be one of {POOL_SPLITS}, not {split!r}")
    images = _framed(
        datasets_dir / "emnist" / "pool" / f"emnist-pool-{split}-images-idx3-ubyte.gz", True
    )
    return images, pool_chars(datasets_dir, split, space, len(images))


def pool_chars(datasets_dir: Path, split: str, space: int, count: int) -> np.ndarray:
    """The characters of a pool split's ``count`` images in one label space (``load_pool``).

    Their images are the same in both spaces: a set that needs both reads these twice, not
    the images.
    """
    folder = datasets_dir / "emnist"
    raw = _labels(folder / "pool" / f"emnist-pool-{split}-labels{space}-idx1-ubyte.gz", count)
    mapping = read_mapping(
        folder / f"emnist-{'balanced' if space == 47 else 'byclass'}-mapping.txt"
    )
    table = np.array([mapping.get(i, "") for i in range(256)])  # 255 = unknown case -> ""
    return table[raw]


def find_official_emnist(datasets_dir: Path, variant: str, split: str) -> tuple[Path, Path] | None:
    """Find the official EMNIST release files of one variant and split, if present.

    Looks in ``emnist/`` and ``emnist/gzip/`` (the layout of the official zip).

    Returns:
        The images and labels paths, or None when the files are not there.
    """
    for folder in (datasets_dir / "emnist", datasets_dir / "emnist" / "gzip"):
        images = folder / f"emnist-{variant}-{split}-images-idx3-ubyte.gz"
        labels = folder / f"emnist-{variant}-{split}-labels-idx1-ubyte.gz"
        if images.is_file() and labels.is_file():
            return images, labels
    return None


def load_emnist(datasets_dir: Path, variant: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Load an official EMNIST release split, upright and framed.

    Args:
        datasets_dir: folder holding ``emnist/`` (or ``emnist/gzip/``) and the mapping files.
        variant: one of ``EMNIST_VARIANTS``.
        split: ``train`` or ``test``.

    Returns:
        uint8 (N, 28, 28) framed images and str (N,) characters (upper case for ``letters``,
        whose labels merge both cases).

    Raises:
        InputFileError: the files are missing or corrupt.
    """
    if variant not in EMNIST_VARIANTS:
        raise ValueError(f"EMNIST variant must be one of {EMNIST_VARIANTS}, not {variant!r}")
    found = find_official_emnist(datasets_dir, variant, split)
    if found is None:
        raise InputFileError(
            f"official EMNIST {variant} {split} files not found",
            path=datasets_dir / "emnist",
            remedy="Unpack the official EMNIST gzip release into this folder",
        )
    images = _framed(found[0], True)
    raw = _labels(found[1], len(images))
    if variant == "letters":  # labels 1..26, both cases under one label
        table = np.array([""] + list(string.ascii_uppercase) + [""] * 229)
    else:
        mapping = read_mapping(datasets_dir / "emnist" / f"emnist-{variant}-mapping.txt")
        table = np.array([mapping.get(i, "") for i in range(256)])
    return images, table[raw]


def mnist_val_mask(count: int) -> np.ndarray:
    """The MNIST train images held back for validation: bool (count,), the same on every call.

    A tenth at most, so that small (test) copies of MNIST keep most images for training.
    ``build_sets`` and the form generator (validation or training handwriting) both use it.
    """
    held = np.zeros(count, bool)
    order = np.random.default_rng(MNIST_VAL_SEED).permutation(count)
    held[order[: min(MNIST_VAL_SIZE, count // 10)]] = True
    return held


def _train_and_val(
    datasets_dir: Path, bundle: str, labels: tuple[str, ...]
) -> tuple[CharacterSet, CharacterSet]:
    """The train and val sets of ``build_sets``, in the bundle's label space."""
    images, chars = load_mnist(datasets_dir, "train")
    held = mnist_val_mask(len(images))
    space = pool_space(labels)
    train = [
        _make_set(images[~held], chars[~held], labels, "mnist/train[-val]"),
        *_pool_train(datasets_dir, labels, space),
    ]
    official = {47: "balanced", 62: "byclass"}[space] if bundle == "alnum" else "digits"
    if find_official_emnist(datasets_dir, official, "train") is not None:
        # Only official *train* files: the pool was cut from the official test files.
        train.append(
            _make_set(*load_emnist(datasets_dir, official, "train"), labels, f"emnist/{official}")
        )
    val = [
        _make_set(images[held], chars[held], labels, "mnist/train[val]"),
        _make_set(*load_pool(datasets_dir, "val", space), labels, "emnist/pool/val"),
    ]
    return concat(train), concat(val)


def either_case_groups(labels: tuple[str, ...]) -> list[list[int]]:
    """What a train target at ``len(labels) + k`` stands for: both cases of ``EITHER_CASE[k]``.

    The pool's letters whose case is unknown are trained so, either case right
    (``ocr_core.recognition.model.compile_model``); none where the labels merge the cases.
    """
    if not both_cases(labels):
        return []
    return [[labels.index(c.upper()), labels.index(c)] for c in EITHER_CASE]


def _pool_train(datasets_dir: Path, labels: tuple[str, ...], space: int) -> list[CharacterSet]:
    """The pool's train split: images of known case, then the letters of unknown case.

    The latter only in the 62-class space, each with its letter's ``either_case_groups`` target.
    """
    images, chars = load_pool(datasets_dir, "train", space)
    sets = [_make_set(images, chars, labels, "emnist/pool/train")]
    if space == 62:
        merged = np.char.lower(pool_chars(datasets_dir, "train", 47, len(images)))
        unknown = (chars == "") & np.isin(merged, EITHER_CASE)
        targets = len(labels) + np.searchsorted(np.array(EITHER_CASE), merged[unknown])
        source = "emnist/pool/train, case unknown"
        sets.append(CharacterSet(images[unknown], targets.astype(np.int32), labels, (source,)))
    return sets


def pool_space(labels: tuple[str, ...]) -> int:
    """The EMNIST pool labels (47 or 62) that a bundle learns from: 62 when it has both cases.

    In the 62-class space the pool's images whose case is unknown (merged letters such as c/C
    from the ByMerge source) have no label: val and the test sets leave them out, and train
    takes them as either case (``either_case_groups``).
    """
    return 62 if both_cases(labels) else 47


def build_sets(
    datasets_dir: Path, bundle: str, *, seed: int = 0, limit: int | None = None
) -> dict[str, CharacterSet]:
    """Build the train, val and test sets of a bundle.

    ``train``: MNIST train less a fixed held-back slice, the pool's train split, and the official
    EMNIST ``balanced`` (alnum) or ``digits`` (digits) train split when present. ``val``: the
    held-back MNIST slice and the pool's val split. ``test_mnist`` and ``test_pool``: the MNIST
    test set and the pool's test split, for reporting only. Each is restricted to the bundle's
    label space. A bundle with both cases also gets ``test_pool_all``: the whole test split in
    the 47-class space, measured as its readings with no charset (``evaluate``), so that its
    figures compare with a 47-class bundle's.

    Args:
        datasets_dir: folder holding ``mnist/`` and ``emnist/``.
        bundle: ``digits`` or ``alnum``.
        seed: seeds ``limit`` sampling (the MNIST held-back slice is fixed: ``mnist_val_mask``).
        limit: keep at most this many images per set (seeded sample), for quick runs.

    Returns:
        Sets named ``train``, ``val``, ``test_mnist``, ``test_pool`` (and ``test_pool_all``).

    Raises:
        ConfigurationError: the datasets folder is missing.
        InputFileError: a dataset file is missing or corrupt.
    """
    if not (datasets_dir / "mnist").is_dir():
        raise ConfigurationError(
            "no mnist/ folder in the datasets folder",
            path=datasets_dir,
            remedy="Set DIGITISE_DATASETS_DIR (or --data-dir) to the folder of mnist/ and emnist/",
        )
    labels = BUNDLE_LABELS[bundle]
    train, val = _train_and_val(datasets_dir, bundle, labels)
    space = pool_space(labels)
    test_pool = load_pool(datasets_dir, "test", space)
    sets = {
        "train": train,
        "val": val,
        "test_mnist": _make_set(*load_mnist(datasets_dir, "test"), labels, "mnist/t10k"),
        "test_pool": _make_set(*test_pool, labels, "emnist/pool/test"),
    }
    if space == 62:
        merged = pool_chars(datasets_dir, "test", 47, len(test_pool[0]))
        sets["test_pool_all"] = _make_set(test_pool[0], merged, ALNUM47, "emnist/pool/test (47)")
    if limit is not None:
        rng = np.random.default_rng(seed)
        sets = {
            name: s.subset(np.sort(rng.permutation(len(s))[:limit])) for name, s in sets.items()
        }
    for name, s in sets.items():
        log.info("%s: %d images from %s", name, len(s), ", ".join(s.sources))
    return sets
