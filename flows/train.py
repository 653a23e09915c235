"""The train-model flow: train (or resume) a model bundle with the same code as the CLI."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from ocr_core.recognition.bundle import read_metrics
from ocr_core.training.fitting import TrainConfig
from ocr_core.training.options import TrainOptions
from ocr_core.training.train import to_config, train_bundle


@task(name="train-bundle", task_run_name="train {config.bundle}")
def train_task(config: TrainConfig, restart: bool) -> str:
    """Train or resume one bundle (``ocr_core.training.train.train_bundle``); return its folder."""
    logger = get_run_logger()

    def progress(epoch: int, logs: dict[str, float]) -> None:
        logger.info(
            "epoch %d/%d: val_loss %.4f val_acc %.4f (%.0f s)",
            epoch,
            config.epochs,
            logs["val_loss"],
            logs["val_accuracy"],
            logs["seconds"],
        )

    return str(train_bundle(config, restart=restart, on_epoch=progress))


@task(name="report-metrics")
def report_task(folder: str, bundle: str) -> None:
    """Publish the bundle's measured accuracy and calibration as a markdown artifact."""
    metrics = read_metrics(Path(folder))
    lines = [
        f"| {name} | {m['accuracy']:.4f} | {m['ece_after']:.4f} |" for name, m in metrics.items()
    ]
    create_markdown_artifact(
        "| set | accuracy | ECE after |\n|---|---|---|\n" + "\n".join(lines),
        key=f"train-{bundle}",
        description=f"Bundle written to {folder}",
    )


@flow(name="train-model", log_prints=True)
def train_model(options: TrainOptions = TrainOptions()) -> str:  # noqa: B008 (shown in the form)
    """Train a model bundle; a re-run after an interruption resumes from the last checkpoint.

    Args:
        options: the options of ``python -m ocr_core.training`` (``ocr_core.training.options``),
            each with its default and help in the run form.

    Returns:
        The bundle folder.
    """
    config, restart = to_config(options.model_dump())
    folder = train_task(config, restart)
    report_task(folder, config.bundle)
    return folder
