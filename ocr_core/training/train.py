"""Train a model bundle, resumable from per-epoch checkpoints: ``python -m ocr_core.training``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from ocr_core.cli import EXIT_CODES_HELP, run_cli
from ocr_core.errors import ConfigurationError
from ocr_core.recognition.bundle import read_provenance
from ocr_core.settings import load_settings
from ocr_core.training.corpus import BUNDLE_LABELS, CharacterSet, add_to_train, build_sets
from ocr_core.training.crop_file import read_crop_file
from ocr_core.training.evaluate import evaluate
from ocr_core.training.fitting import (
    FORM_CROPS_REPEAT,
    LEARNING_RATE,
    REVIEWED_REPEAT,
    STATE_FILE,
    TrainConfig,
    fit,
    record_written,
    saved_reviewed_rows,
)
from ocr_core.training.reviewed import (
    REVIEWED_LABELS,
    ReviewedExamples,
    choose_reviewed,
    load_reviewed,
)

log = logging.getLogger(__name__)

__all__ = ["MAX_ERROR", "REVIEWED_REPEAT", "STATE_FILE", "TrainConfig", "main", "train_bundle"]

# Error allowed among accepted characters when choosing each bundle's review threshold.
MAX_ERROR: Final = {"digits": 0.005, "alnum": 0.02}


def load_training_sets(
    config: TrainConfig, *, reviewed_rows: int | None = None
) -> tuple[dict[str, CharacterSet], ReviewedExamples | None, list[dict[str, Any]]]:
    """Build the bundle's sets and add the reviewed examples and form crops to ``train``.

    Extra examples are added after ``limit`` sampling, so a quick run keeps all of them.

    Args:
        config: what to train (``reviewed`` and ``form_crops`` say what to add).
        reviewed_rows: read only this many ``labels.csv`` rows (what a resumed run started with).

    Returns:
        The sets (``train``, ``val``, ``test_mnist``, ``test_pool``), what the reviewed folder
        gave (None when ``config.reviewed`` is None), and a record of each crop file added.

    Raises:
        ConfigurationError: the datasets folder is missing.
        InputFileError: a dataset file, the reviewed ``labels.csv`` or a crop file is corrupt.
    """
    sets = build_sets(Path(config.data_dir), config.bundle, seed=config.seed, limit=config.limit)
    labels = BUNDLE_LABELS[config.bundle]
    crops_added = []
    for path in config.form_crops:
        crops, meta = read_crop_file(Path(path), labels)
        log.info("adding %d form crops x%d from %s", len(crops), config.form_crops_repeat, path)
        sets = add_to_train(sets, crops, config.form_crops_repeat)
        crops_added.append({"file": str(path), "examples": len(crops), "made": meta})
    if config.reviewed is None:
        return sets, None, crops_added
    reviewed = load_reviewed(Path(config.reviewed), labels, max_rows=reviewed_rows)
    log.info(
        "adding %d reviewed examples x%d from %s",
        len(reviewed.examples),
        config.reviewed_repeat,
        config.reviewed,
    )
    return add_to_train(sets, reviewed.examples, config.reviewed_repeat), reviewed, crops_added


def _base_record(config: TrainConfig) -> dict[str, Any] | None:
    """What the model that fine-tuning started from was (its bundle's training record)."""
    if config.init_from is None:
        return None
    path = Path(config.init_from)
    record: dict[str, Any] = {"path": str(path)}
    provenance = read_provenance(path)
    if provenance is not None:
        written, training = provenance
        record["written"] = written
        record["training"] = {k: v for k, v in training.items() if k != "history"}
    return record


def _reviewed_record(
    config: TrainConfig, reviewed: ReviewedExamples | None
) -> dict[str, Any] | None:
    if reviewed is None:
        return None
    return {
        "folder": str(config.reviewed),
        "examples": len(reviewed.examples),
        "repeat": config.reviewed_repeat,
        "rows_read": reviewed.rows,
        "skipped": reviewed.skipped,
    }


def train_bundle(
    config: TrainConfig,
    *,
    restart: bool = False,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> Path:
    """Train (or resume) a bundle, calibrate it on val, measure it on test, and write it.

    Args:
        config: what to train and where to write it.
        restart: discard an existing checkpoint instead of resuming from it.
        on_epoch: called after each epoch with (epochs done, metrics), e.g. to report progress.

    Returns:
        The bundle folder.

    Raises:
        ConfigurationError: missing datasets folder, unknown bundle, a reviewed repeat under 1, or
            a checkpoint made with other settings.
        InputFileError: a dataset file or the reviewed ``labels.csv`` is missing or corrupt.
    """
    from ocr_core.training.card import write_bundle

    if config.bundle not in BUNDLE_LABELS:
        raise ConfigurationError(f"unknown bundle {config.bundle!r}; use digits or alnum")
    if min(config.reviewed_repeat, config.form_crops_repeat) < 1:
        raise ConfigurationError(
            f"repeats must be at least 1, not {config.reviewed_repeat} (reviewed) and "
            f"{config.form_crops_repeat} (form crops)"
        )
    base = _base_record(config)  # read now: a fine-tuned bundle may replace its own base
    resumed_rows = None if restart else saved_reviewed_rows(config)
    sets, reviewed, crops_added = load_training_sets(config, reviewed_rows=resumed_rows)
    model, state = fit(
        config,
        sets,
        restart=restart,
        on_epoch=on_epoch,
        reviewed_rows=None if reviewed is None else reviewed.rows,
    )
    report = evaluate(model, sets, max_error=MAX_ERROR[config.bundle])
    training = {
        **config.identity(),
        "data_dir": str(config.data_dir),
        "sizes": {name: len(s) for name, s in sets.items()},
        "sources": {name: list(s.sources) for name, s in sets.items()},
        "reviewed": _reviewed_record(config, reviewed),
        "form_crops": crops_added,
        "init_from": base,
        "epochs_run": state.epoch,
        "best_epoch": state.best_epoch,
        "history": state.history,
    }
    out = write_bundle(
        Path(config.out),
        model,
        config.bundle,
        report,
        training,
        target_error=MAX_ERROR[config.bundle],
    )
    record_written(config, state)
    log.info("wrote %s", out)
    return out


def parse_config(argv: list[str] | None = None) -> tuple[TrainConfig, bool]:
    """Read the command line into a training config.

    Returns:
        The config, and whether to discard an existing checkpoint (``--restart``).
    """
    settings = load_settings()
    parser = argparse.ArgumentParser(
        prog="python -m ocr_core.training", description=__doc__, epilog=EXIT_CODES_HELP
    )
    parser.add_argument("--bundle", required=True, choices=sorted(BUNDLE_LABELS))
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=LEARNING_RATE)
    parser.add_argument("--patience", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="images per set (quick runs)")
    parser.add_argument("--no-augment", action="store_true")
    parser.add_argument("--data-dir", type=Path, default=settings.datasets_dir)
    parser.add_argument("--out", type=Path, help="bundle folder (default: models_dir/BUNDLE)")
    parser.add_argument("--checkpoint-dir", type=Path, default=None)
    parser.add_argument("--restart", action="store_true", help="discard an existing checkpoint")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    reviewed = parser.add_mutually_exclusive_group()
    reviewed.add_argument(
        "--reviewed",
        type=Path,
        default=None,
        help="folder of reviewed crops (labels.csv + images) to add to the train set "
        f"(default: {settings.reviewed_dir} when it holds {REVIEWED_LABELS})",
    )
    reviewed.add_argument("--no-reviewed", action="store_true", help="add no reviewed crops")
    parser.add_argument(
        "--reviewed-repeat",
        type=int,
        default=REVIEWED_REPEAT,
        help="copies of each reviewed crop in the train set",
    )
    parser.add_argument(
        "--form-crops",
        type=Path,
        nargs="+",
        default=[],
        help="crop files from python -m segmentation.synthetic.harvest to add to the train set",
    )
    parser.add_argument(
        "--form-crops-repeat",
        type=int,
        default=FORM_CROPS_REPEAT,
        help="copies of each form crop in the train set",
    )
    parser.add_argument(
        "--init-from",
        type=Path,
        default=None,
        help="bundle folder (or .keras file) to start from: fine-tune it instead of training anew",
    )
    args = parser.parse_args(argv)
    config = TrainConfig(
        bundle=args.bundle,
        out=args.out or settings.models_dir / args.bundle,
        data_dir=args.data_dir,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        patience=args.patience,
        seed=args.seed,
        limit=args.limit,
        augment=not args.no_augment,
        checkpoint_dir=args.checkpoint_dir,
        reviewed=choose_reviewed(args.reviewed, use=not args.no_reviewed),
        reviewed_repeat=args.reviewed_repeat,
        form_crops=tuple(args.form_crops),
        form_crops_repeat=args.form_crops_repeat,
        init_from=args.init_from,
    )
    return config, args.restart


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    config, restart = parse_config(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)

    def run() -> None:
        train_bundle(config, restart=restart)

    return run_cli(run, debug="--debug" in (sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
