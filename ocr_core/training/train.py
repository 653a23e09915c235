"""Train a model bundle, resumable from per-epoch checkpoints: ``python -m ocr_core.training``."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping, Sequence
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
    STATE_FILE,
    TrainConfig,
    fit,
    record_written,
    saved_reviewed_rows,
)
from ocr_core.training.options import OPTIONS, REVIEWED_REPEAT, build_parser
from ocr_core.training.reviewed import (
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


def _check(config: TrainConfig) -> None:
    """Refuse a config that names an unknown bundle or repeats anything under once.

    Raises:
        ConfigurationError: the bundle or a repeat is invalid.
    """
    if config.bundle not in BUNDLE_LABELS:
        raise ConfigurationError(f"unknown bundle {config.bundle!r}; use digits or alnum")
    if min(config.reviewed_repeat, config.form_crops_repeat) < 1:
        raise ConfigurationError(
            f"repeats must be at least 1, not {config.reviewed_repeat} (reviewed) and "
            f"{config.form_crops_repeat} (form crops)"
        )


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

    _check(config)
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
    target = MAX_ERROR[config.bundle]
    out = write_bundle(
        Path(config.out), model, config.bundle, report, training, target_error=target
    )
    record_written(config, state)
    log.info("wrote %s", out)
    return out


def to_config(values: Mapping[str, Any]) -> tuple[TrainConfig, bool]:
    """Turn option values (the command line's or the flow's) into a training config.

    Args:
        values: a value for every option of ``ocr_core.training.options.OPTIONS`` (the CLI-only
            ones may be left out).

    Returns:
        The config, and whether to discard an existing checkpoint (``restart``).
    """
    settings = load_settings()

    def path(name: str) -> Path | None:
        return None if values[name] is None else Path(values[name])

    fields = {o.name: values[o.name] for o in OPTIONS if o.config}
    fields.update(
        out=path("out") or settings.models_dir / values["bundle"],
        data_dir=path("data_dir") or settings.datasets_dir,
        checkpoint_dir=path("checkpoint_dir"),
        init_from=path("init_from"),
        reviewed=choose_reviewed(path("reviewed"), use=values["use_reviewed"]),
        form_crops=tuple(Path(f) for f in values["form_crops"] or ()),
    )
    return TrainConfig(**fields), bool(values["restart"])


def parse_config(argv: Sequence[str] | None = None) -> tuple[TrainConfig, bool]:
    """Read the command line into a training config.

    Returns:
        The config, and whether to discard an existing checkpoint (``--restart``).
    """
    return to_config(vars(build_parser(__doc__, EXIT_CODES_HELP).parse_args(argv)))


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    values = vars(build_parser(__doc__, EXIT_CODES_HELP).parse_args(argv))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)

    def run() -> None:
        config, restart = to_config(values)
        train_bundle(config, restart=restart)

    return run_cli(run, debug=values["debug"])


if __name__ == "__main__":
    sys.exit(main())
