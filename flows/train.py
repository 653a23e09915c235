"""The train-model flow: train (or resume) a model bundle with the same code as the CLI."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from ocr_core.recognition.bundle import read_metrics
from ocr_core.settings import load_settings
from ocr_core.training.fitting import FORM_CROPS_REPEAT, LEARNING_RATE, REVIEWED_REPEAT, TrainConfig
from ocr_core.training.reviewed import choose_reviewed
from ocr_core.training.train import train_bundle


@task(name="train-bundle", task_run_name="train {bundle}")
def train_task(
    bundle: str,
    out: str,
    data_dir: str,
    epochs: int,
    batch_size: int,
    seed: int,
    limit: int | None,
    restart: bool,
    reviewed: str | None = None,
    reviewed_repeat: int = REVIEWED_REPEAT,
    form_crops: list[str] | None = None,
    form_crops_repeat: int = FORM_CROPS_REPEAT,
    init_from: str | None = None,
    learning_rate: float = LEARNING_RATE,
) -> str:
    """Train or resume one bundle (``ocr_core.training.train.train_bundle``); return its folder."""
    logger = get_run_logger()
    config = TrainConfig(
        bundle=bundle,
        out=Path(out),
        data_dir=Path(data_dir),
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        limit=limit,
        reviewed=None if reviewed is None else Path(reviewed),
        reviewed_repeat=reviewed_repeat,
        form_crops=tuple(Path(f) for f in form_crops or ()),
        form_crops_repeat=form_crops_repeat,
        init_from=None if init_from is None else Path(init_from),
        learning_rate=learning_rate,
    )

    def progress(epoch: int, logs: dict[str, float]) -> None:
        logger.info(
            "epoch %d/%d: val_loss %.4f val_acc %.4f (%.0f s)",
            epoch,
            epochs,
            logs["val_loss"],
            logs["val_accuracy"],
            logs["seconds"],
        )

    return str(train_bundle(config, restart=restart, on_epoch=progress))


@flow(name="train-model", log_prints=True)
def train_model(
    bundle: str = "digits",
    epochs: int = 15,
    batch_size: int = 128,
    data_dir: str | None = None,
    out: str | None = None,
    seed: int = 0,
    limit: int | None = None,
    restart: bool = False,
    reviewed: str | None = None,
    use_reviewed: bool = True,
    reviewed_repeat: int = REVIEWED_REPEAT,
    form_crops: list[str] | None = None,
    form_crops_repeat: int = FORM_CROPS_REPEAT,
    init_from: str | None = None,
    learning_rate: float = LEARNING_RATE,
) -> str:
    """Train a model bundle; a re-run after an interruption resumes from the last checkpoint.

    Args:
        bundle: ``digits`` or ``alnum``.
        epochs: most epochs (early stopping on val may end sooner).
        batch_size: images per step.
        data_dir: the datasets folder; the settings' ``datasets_dir`` when None.
        out: the bundle folder; ``<models_dir>/<bundle>`` when None.
        seed: seeds data order, augmentation and weights.
        limit: at most this many images per set (quick runs).
        restart: discard the checkpoint instead of resuming.
        reviewed: a folder of reviewed crops (apply-review's ``labels.csv`` and images) to add
            to the train set; the settings' ``reviewed_dir`` when None and it holds labels.
        use_reviewed: False leaves reviewed crops out (the CLI's ``--no-reviewed``).
        reviewed_repeat: copies of each reviewed crop in the train set.
        form_crops: crop files (``python -m segmentation.synthetic.harvest``) to add to the
            train set.
        form_crops_repeat: copies of each form crop in the train set.
        init_from: a bundle folder to fine-tune instead of training from fresh weights.
        learning_rate: peak learning rate (about a tenth of the default to fine-tune).

    Returns:
        The bundle folder.
    """
    settings = load_settings()
    chosen = choose_reviewed(None if reviewed is None else Path(reviewed), use=use_reviewed)
    folder = train_task(
        bundle,
        out or str(settings.models_dir / bundle),
        data_dir or str(settings.require_datasets_dir()),
        epochs,
        batch_size,
        seed,
        limit,
        restart,
        None if chosen is None else str(chosen),
        reviewed_repeat,
        form_crops,
        form_crops_repeat,
        init_from,
        learning_rate,
    )
    metrics = read_metrics(Path(folder))
    lines = [
        f"| {name} | {m['accuracy']:.4f} | {m['ece_after']:.4f} |" for name, m in metrics.items()
    ]
    create_markdown_artifact(
        "| set | accuracy | ECE after |\n|---|---|---|\n" + "\n".join(lines),
        key=f"train-{bundle}",
        description=f"Bundle written to {folder}",
    )
    return folder
