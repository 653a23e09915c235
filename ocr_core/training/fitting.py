"""The resumable training loop: what to train, per-epoch checkpoints, and resume after a kill."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np

from ocr_core.errors import ConfigurationError
from ocr_core.recognition.bundle import META_FILE
from ocr_core.recognition.bundle import model_path as bundle_model
from ocr_core.recognition.model import (
    Augmentation,
    build_model,
    compile_model,
    eval_dataset,
    train_dataset,
    training_objects,
)
from ocr_core.settings import load_settings
from ocr_core.training.corpus import either_case_groups
from ocr_core.training.options import default

log = logging.getLogger(__name__)

STATE_FILE: Final = "state.json"
LAST_MODEL: Final = "last.keras"
BEST_WEIGHTS: Final = "best.weights.h5"


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """What to train. Everything but ``out`` and ``checkpoint_dir`` must match to resume.

    Its defaults are those of the options list (``ocr_core.training.options``).

    Attributes:
        bundle: ``digits`` or ``alnum``.
        out: the bundle folder to write.
        data_dir: folder holding ``mnist/`` and ``emnist/``.
        epochs: most epochs to train (early stopping may end sooner).
        batch_size: images per step.
        learning_rate: peak AdamW learning rate (cosine decay over ``epochs``).
        patience: epochs without a better val loss before stopping.
        seed: seeds the weights, shuffling and augmentation (and ``limit`` sampling).
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
        form_crops: crop files (``segmentation.synthetic.harvest``: crops cut from synthetic forms
            written in training handwriting) added to the train set only.
        form_crops_repeat: copies of each form crop in the train set. Once: 1500 pages give
            ~90k crops (~70k digits), a third of the train set beside ~130k (digits) to ~200k
            (alnum) dataset images. That is enough for the model to learn what the pipeline's
            crops look like (a neighbour's stroke, a bitten stroke), while the datasets still
            hold most of the clean characters that val and test are made of.
        init_from: a bundle folder (or ``.keras`` file) whose model training starts from, to
            fine-tune it (e.g. on form crops, a few epochs at a tenth of the learning rate);
            None trains from freshly initialised weights.
    """

    bundle: str
    out: Path
    data_dir: Path
    epochs: int = default("epochs")
    batch_size: int = default("batch_size")
    learning_rate: float = default("learning_rate")
    patience: int = default("patience")
    seed: int = default("seed")
    limit: int | None = default("limit")
    augment: bool = default("augment")
    checkpoint_dir: Path | None = None
    reviewed: Path | None = None
    reviewed_repeat: int = default("reviewed_repeat")
    form_crops: tuple[Path, ...] = ()
    form_crops_repeat: int = default("form_crops_repeat")
    init_from: Path | None = None

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
        # Likewise checkpoints made before form crops and fine-tuning existed.
        if not self.form_crops:
            keep.pop("form_crops")
            keep.pop("form_crops_repeat")
        else:
            keep["form_crops"] = [str(Path(p).resolve()) for p in self.form_crops]
        if self.init_from is None:
            keep.pop("init_from")
        else:
            keep["init_from"] = str(Path(self.init_from).resolve())
        return keep


@dataclass(slots=True)
class RunState:
    """Progress saved with every checkpoint (mutable: it is the training loop's state)."""

    epoch: int = 0
    best_loss: float = float("inf")
    best_epoch: int = -1
    wait: int = 0
    finished: bool = False
    # The run's bundle is written: another run may take this folder without losing anything.
    written: bool = False
    history: dict[str, list[float]] = field(default_factory=dict)
    # labels.csv rows the run started with: a resume reads only these, though reviewers add more.
    reviewed_rows: int | None = None


def checkpoint_folder(config: TrainConfig) -> Path:
    """Where a run's checkpoints go: ``checkpoint_dir``, or the settings' folder per bundle."""
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
    ours = config.identity()
    if saved["config"] != ours:
        if saved["state"].get("written"):
            # A finished run whose bundle is written (a fine-tune's base, say): nothing to resume.
            log.info("%s holds a finished run with other settings; starting afresh", folder)
            shutil.rmtree(folder)
            folder.mkdir(parents=True)
            return RunState()
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


def saved_reviewed_rows(config: TrainConfig) -> int | None:
    """The ``labels.csv`` rows that the checkpointed run this one resumes started with.

    None when there is no such run (none at all, or one with other settings, which is never
    resumed) or it read no rows.
    """
    state_path = checkpoint_folder(config) / STATE_FILE
    if not state_path.is_file():
        return None
    saved = json.loads(state_path.read_text())
    if saved["config"] != config.identity():
        return None
    rows = saved["state"].get("reviewed_rows")
    return None if rows is None else int(rows)


def record_written(config: TrainConfig, state: RunState) -> None:
    """Note in the checkpoint that the run's bundle is written (see ``_open_run``)."""
    state.written = True
    _save_state(checkpoint_folder(config), config, state)


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


def load_initial_model(path: Path, labels: tuple[str, ...]) -> Any:
    """Load the model that a fine-tuning run starts from: a bundle folder or a ``.keras`` file.

    A bundle whose classes merge cases that ``labels`` tell apart (47 classes, to 62) is widened
    (``widen``).

    Raises:
        ConfigurationError: no such model, or one whose classes do not lead to ``labels``.
    """
    import keras

    model_path = bundle_model(path)
    if not model_path.is_file():
        raise ConfigurationError(
            "no model to start from", path=model_path, remedy="Pass a bundle folder to --init-from"
        )
    model = keras.models.load_model(model_path, compile=False)
    log.info("starting from the weights of %s", model_path)
    if model.output_shape[-1] == len(labels):
        return model
    meta = path / META_FILE
    old = tuple(json.loads(meta.read_text())["labels"]) if meta.is_file() else ()
    if len(old) == model.output_shape[-1] and (source := _merged_source(old, labels)):
        log.info("widening its %d classes to %d", len(old), len(labels))
        return widen(model, old, source)
    raise ConfigurationError(
        f"the model to start from has {model.output_shape[-1]} classes, not {len(labels)}",
        path=model_path,
        remedy="Start a digits bundle from a digits bundle, alnum from alnum",
    )


def _merged_source(old: tuple[str, ...], labels: tuple[str, ...]) -> list[int]:
    """Each label's class among ``old``: its own, or the merged one (``c`` in ``C``).

    Empty when some label has neither.
    """
    if not all(c in old or c.upper() in old for c in labels):
        return []
    return [old.index(c) if c in old else old.index(c.upper()) for c in labels]


def widen(model: Any, old: tuple[str, ...], source: list[int]) -> Any:
    """A model whose class i starts from class ``source[i]`` of ``model`` (over ``old``).

    The classes sharing an old class split its probability evenly, so the widened model reads,
    case merged, what the old one read.
    """
    shares = np.bincount(source, minlength=len(old))[source]
    *body, kernel, bias = model.get_weights()
    wide = build_model(len(source), dense=kernel.shape[0])
    wide.set_weights([*body, kernel[:, source], bias[source] - np.log(shares)])
    return wide


def _starting_model(
    folder: Path, config: TrainConfig, state: RunState, labels: tuple[str, ...], steps: int
) -> Any:
    """The compiled model a run goes on with.

    Its last checkpoint, the model to fine-tune, or a new one.
    """
    import keras

    if state.epoch > 0:
        training_objects()  # the checkpoint was compiled with them
        return keras.models.load_model(folder / LAST_MODEL)
    if config.init_from is not None:
        model = load_initial_model(Path(config.init_from), labels)
    else:
        model = build_model(len(labels), seed=config.seed)
    compile_model(
        model,
        steps_per_epoch=steps,
        epochs=config.epochs,
        learning_rate=config.learning_rate,
        groups=either_case_groups(labels),
    )
    return model


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
    folder = checkpoint_folder(config)
    state = _open_run(folder, config, restart)
    if state.epoch == 0:
        state.reviewed_rows = reviewed_rows
    train, val = sets["train"], sets["val"]
    stream, steps = train_dataset(
        train.images,
        train.targets,
        batch_size=config.batch_size,
        seed=config.seed,
        first_epoch=state.epoch,
        epochs=config.epochs,
        augmentation=Augmentation() if config.augment else None,
    )
    model = _starting_model(folder, config, state, train.labels, steps)
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
