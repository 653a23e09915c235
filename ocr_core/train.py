"""Train a model bundle, resumable from per-epoch checkpoints: ``python -m ocr_core.train``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from ocr_core.corpus import BUNDLE_LABELS, CharacterSet, build_sets
from ocr_core.errors import ConfigurationError, DigitiseError
from ocr_core.evaluate import evaluate
from ocr_core.model import Augmentation, build_model, compile_model, eval_dataset, train_dataset
from ocr_core.reviewed import (
    REVIEWED_LABELS,
    ReviewedExamples,
    add_reviewed,
    choose_reviewed,
    load_reviewed,
)
from ocr_core.settings import load_settings

log = logging.getLogger(__name__)

# Error allowed among accepted characters when choosing each bundle's review threshold.
MAX_ERROR: Final = {"digits": 0.005, "alnum": 0.02}
STATE_FILE: Final = "state.json"
LAST_MODEL: Final = "last.keras"
BEST_WEIGHTS: Final = "best.weights.h5"
REVIEWED_REPEAT: Final = 5


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """What to train. Everything but ``out`` and ``checkpoint_dir`` must match to resume.

    Attributes:
        bundle: ``digits`` or ``alnum``.
        out: the bundle folder to write.
        data_dir: folder holding ``mnist/`` and ``emnist/``.
        epochs: most epochs to train (early stopping may end sooner).
        batch_size: images per step.
        learning_rate: peak AdamW learning rate (cosine decay over ``epochs``).
        patience: epochs without a better val loss before stopping.
        seed: seeds the MNIST val slice, weights, shuffling and augmentation.
        limit: cap on images per set (seeded sample), for quick runs and tests.
        augment: distort training batches.
        checkpoint_dir: where checkpoints go; default ``<settings.checkpoints_dir>/<out name>``.
        reviewed: a folder of reviewed crops (apply-review's ``labels.csv`` and images) added to
            the train set only, or None for none.
        reviewed_repeat: copies of each reviewed example in the train set. Reviewers confirm a
            few hundred crops from the forms the product really reads, against ~200k dataset
            images: once each they would be ~0.1% of an epoch and change nothing. Five copies
            (each distorted differently by augmentation) give them the weight of ~1% of an
            epoch: enough to pull the model towards real form handwriting, while each class
            still holds thousands of dataset images, so class priors (and the calibration, fitted
            on val) barely move, and a mislabelled review is not learnt by heart as it would be
            at tens of copies.
    """

    bundle: str
    out: Path
    data_dir: Path
    epochs: int = 15
    batch_size: int = 128
    learning_rate: float = 2e-3
    patience: int = 4
    seed: int = 0
    limit: int | None = None
    augment: bool = True
    checkpoint_dir: Path | None = None
    reviewed: Path | None = None
    reviewed_repeat: int = REVIEWED_REPEAT

    def identity(self) -> dict[str, Any]:
        """The settings a checkpoint must share with this run to be resumed."""
        keep = asdict(self)
        for name in ("out", "checkpoint_dir"):
            keep.pop(name)
        keep["data_dir"] = str(Path(self.data_dir).resolve())
        if self.reviewed is None:
            # Checkpoints made before reviewed examples existed lack both keys; they resume.
            keep.pop("reviewed")
            keep.pop("reviewed_repeat")
        else:
            keep["reviewed"] = str(Path(self.reviewed).resolve())
        return keep


@dataclass(slots=True)
class RunState:
    """Progress saved with every checkpoint (mutable: it is the training loop's state)."""

    epoch: int = 0
    best_loss: float = float("inf")
    best_epoch: int = -1
    wait: int = 0
    finished: bool = False
    history: dict[str, list[float]] = field(default_factory=dict)
    # labels.csv rows the run started with: a resume reads only these, though reviewers add more.
    reviewed_rows: int | None = None


def _checkpoint_folder(config: TrainConfig) -> Path:
    if config.checkpoint_dir is not None:
        return Path(config.checkpoint_dir)
    return load_settings().checkpoints_dir / Path(config.out).name


def _open_run(folder: Path, config: TrainConfig, restart: bool) -> RunState:
    state_path = folder / STATE_FILE
    if restart and folder.exists():
        shutil.rmtree(folder)
    if not state_path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        return RunState()
    saved = json.loads(state_path.read_text())
    if saved["config"] != config.identity():
        ours = config.identity()
        differ = ", ".join(
            f"{k}: {saved['config'].get(k)!r} there, {ours.get(k)!r} here"
            for k in sorted(set(saved["config"]) | set(ours))
            if saved["config"].get(k) != ours.get(k)
        )
        raise ConfigurationError(
            f"checkpoint was made with other settings ({differ})",
            path=folder,
            remedy="Run with the same settings to resume (--reviewed DIR or --no-reviewed for "
            "reviewed examples), or add --restart to start over",
        )
    state = RunState(**saved["state"])
    log.info("resuming from %s after epoch %d", folder, state.epoch)
    return state


def _saved_reviewed_rows(folder: Path) -> int | None:
    state_path = folder / STATE_FILE
    if not state_path.is_file():
        return None
    rows = json.loads(state_path.read_text())["state"].get("reviewed_rows")
    return None if rows is None else int(rows)


def _save_state(folder: Path, config: TrainConfig, state: RunState) -> None:
    tmp = folder / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps({"config": config.identity(), "state": asdict(state)}, indent=1))
    os.replace(tmp, folder / STATE_FILE)  # atomic: a kill never leaves half a state


def _checkpointer(
    folder: Path,
    config: TrainConfig,
    state: RunState,
    on_epoch: Callable[[int, dict[str, float]], None] | None,
) -> Any:
    import keras

    class Checkpoint(keras.callbacks.Callback):
        """Save the model, the best weights and the run state after every epoch."""

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            logs = {k: float(v) for k, v in (logs or {}).items()}
            logs["seconds"] = time.perf_counter() - self.started
            for key, value in logs.items():
                state.history.setdefault(key, []).append(value)
            state.epoch = epoch + 1
            if logs["val_loss"] < state.best_loss:
                state.best_loss, state.best_epoch, state.wait = logs["val_loss"], epoch + 1, 0
                self.model.save_weights(folder / "best.tmp.weights.h5")
                os.replace(folder / "best.tmp.weights.h5", folder / BEST_WEIGHTS)
            else:
                state.wait += 1
            self.model.save(folder / "last.tmp.keras")
            os.replace(folder / "last.tmp.keras", folder / LAST_MODEL)
            stop = state.wait >= config.patience
            state.finished = stop or state.epoch >= config.epochs
            _save_state(folder, config, state)
            log.info(
                "epoch %d/%d: loss %.4f acc %.4f val_loss %.4f val_acc %.4f (%.0f s)%s",
                state.epoch,
                config.epochs,
                logs["loss"],
                logs["accuracy"],
                logs["val_loss"],
                logs["val_accuracy"],
                logs["seconds"],
                " early stop" if stop else "",
            )
            self.model.stop_training = stop
            if on_epoch is not None:
                on_epoch(state.epoch, logs)

    return Checkpoint()


def fit(
    config: TrainConfig,
    sets: dict[str, Any],
    *,
    restart: bool = False,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
    reviewed_rows: int | None = None,
) -> tuple[Any, RunState]:
    """Train from scratch or from the last checkpoint, and return the best model.

    Args:
        config: what to train.
        sets: from ``build_sets`` (``train`` and ``val`` are used).
        restart: discard an existing checkpoint.
        on_epoch: called after each epoch's checkpoint with (epochs done, metrics).
        reviewed_rows: ``labels.csv`` rows behind ``train``'s reviewed examples, saved with a new
            run so that a resume reads the same rows.

    Returns:
        The model with its best val-loss weights, and the run state.

    Raises:
        ConfigurationError: the checkpoint was made with other settings.
    """
    import keras

    folder = _checkpoint_folder(config)
    state = _open_run(folder, config, restart)
    if state.epoch == 0:
        state.reviewed_rows = reviewed_rows
    train, val = sets["train"], sets["val"]
    if state.epoch > 0:
        model = keras.models.load_model(folder / LAST_MODEL)
    else:
        model = build_model(len(train.labels), seed=config.seed)
    stream, steps = train_dataset(
        train.images,
        train.targets,
        batch_size=config.batch_size,
        seed=config.seed,
        first_epoch=state.epoch,
        epochs=config.epochs,
        augmentation=Augmentation() if config.augment else None,
    )
    if state.epoch == 0:
        compile_model(
            model, steps_per_epoch=steps, epochs=config.epochs, learning_rate=config.learning_rate
        )
    if not state.finished:
        log.info("training on %d images, %d steps per epoch", len(train), steps)
        model.fit(
            stream,
            epochs=config.epochs,
            initial_epoch=state.epoch,
            steps_per_epoch=steps,
            validation_data=eval_dataset(val.images, val.targets, batch_size=1024),
            callbacks=[_checkpointer(folder, config, state, on_epoch)],
            shuffle=False,  # the stream is already shuffled, per epoch and seeded
            verbose=0,
        )
    model.load_weights(folder / BEST_WEIGHTS)
    return model, state


def load_training_sets(
    config: TrainConfig, *, reviewed_rows: int | None = None
) -> tuple[dict[str, CharacterSet], ReviewedExamples | None]:
    """Build the bundle's sets and add the reviewed examples to ``train``.

    Reviewed examples are added after ``limit`` sampling, so a quick run keeps all of them.

    Args:
        config: what to train (``reviewed`` and ``reviewed_repeat`` say what to add).
        reviewed_rows: read only this many ``labels.csv`` rows (what a resumed run started with).

    Returns:
        The sets (``train``, ``val``, ``test_mnist``, ``test_pool``) and what the reviewed folder
        gave, or None when ``config.reviewed`` is None.

    Raises:
        ConfigurationError: the datasets folder is missing.
        InputFileError: a dataset file or the reviewed ``labels.csv`` is corrupt.
    """
    sets = build_sets(Path(config.data_dir), config.bundle, seed=config.seed, limit=config.limit)
    if config.reviewed is None:
        return sets, None
    labels = BUNDLE_LABELS[config.bundle]
    reviewed = load_reviewed(Path(config.reviewed), labels, max_rows=reviewed_rows)
    log.info(
        "adding %d reviewed examples x%d from %s",
        len(reviewed.examples),
        config.reviewed_repeat,
        config.reviewed,
    )
    return add_reviewed(sets, reviewed.examples, config.reviewed_repeat), reviewed


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
    from ocr_core.card import write_bundle

    if config.bundle not in BUNDLE_LABELS:
        raise ConfigurationError(f"unknown bundle {config.bundle!r}; use digits or alnum")
    if config.reviewed_repeat < 1:
        raise ConfigurationError(
            f"reviewed repeat must be at least 1, not {config.reviewed_repeat}"
        )
    folder = _checkpoint_folder(config)
    resumed_rows = None if restart else _saved_reviewed_rows(folder)
    sets, reviewed = load_training_sets(config, reviewed_rows=resumed_rows)
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
    log.info("wrote %s", out)
    return out


def parse_config(argv: list[str] | None = None) -> tuple[TrainConfig, bool]:
    """Read the command line into a training config.

    Returns:
        The config, and whether to discard an existing checkpoint (``--restart``).
    """
    settings = load_settings()
    parser = argparse.ArgumentParser(prog="python -m ocr_core.train", description=__doc__)
    parser.add_argument("--bundle", required=True, choices=sorted(BUNDLE_LABELS))
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--patience", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="images per set (quick runs)")
    parser.add_argument("--no-augment", action="store_true")
    parser.add_argument("--data-dir", type=Path, default=settings.datasets_dir)
    parser.add_argument("--out", type=Path, help="bundle folder (default: models_dir/BUNDLE)")
    parser.add_argument("--checkpoint-dir", type=Path, default=None)
    parser.add_argument("--restart", action="store_true", help="discard an existing checkpoint")
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
    )
    return config, args.restart


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    config, restart = parse_config(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    try:
        train_bundle(config, restart=restart)
    except DigitiseError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
