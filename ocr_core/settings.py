"""The one validated settings object: folders and defaults, read from ``DIGITISE_*`` variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ocr_core.errors import ConfigurationError


def project_root() -> Path:
    """The project folder (``DIGITISE_PROJECT_DIR``, else the checkout this package is in).

    Relative defaults (models, templates, run-time folders) and ``prefect.toml`` are taken from
    here, so that a command works the same from any working directory.
    """
    named = os.environ.get("DIGITISE_PROJECT_DIR")
    return Path(named).resolve() if named else Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """Where the pipeline reads and writes, and its run-time defaults.

    Every field can be set by an environment variable named ``DIGITISE_`` plus the field name in
    upper case (``DIGITISE_DATASETS_DIR=/srv/datasets``) or by a ``.env`` file in the working
    directory. Relative paths are taken from the project folder (``project_root``), not the
    working directory, so that every command finds the same models, templates and folders
    wherever it is started.
    """

    model_config = SettingsConfigDict(
        env_prefix="DIGITISE_",
        env_file=(project_root() / ".env", ".env"),  # the working folder's wins
        extra="ignore",
        frozen=True,
        validate_default=True,
    )

    data_dir: Path = Field(Path("data"), description="Root of what the product ships and writes.")
    datasets_dir: Path = Field(
        Path("data/datasets"), description="Folder holding mnist/ and emnist/ IDX gzip files."
    )
    models_dir: Path = Field(Path("data/models"), description="Folder of model bundles.")
    templates_dir: Path = Field(Path("data/templates"), description="Folder of form templates.")
    inbox_dir: Path = Field(Path("data/inbox"), description="Watched folder users drop files in.")
    processing_dir: Path = Field(
        Path("data/processing"), description="Files claimed by a run and not yet finished."
    )
    archive_dir: Path = Field(Path("data/archive"), description="Files whose results are written.")
    quarantine_dir: Path = Field(
        Path("data/quarantine"), description="Files that could not be processed."
    )
    output_dir: Path = Field(Path("data/output"), description="One result folder per run.")
    reviewed_dir: Path = Field(
        Path("data/reviewed"), description="Reviewed crops and labels that training can add."
    )
    checkpoints_dir: Path = Field(
        Path("data/checkpoints"), description="Per-run training checkpoints, for resuming."
    )
    review_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Review threshold for every bundle, over each bundle's own (a run's "
        "--threshold wins over it).",
    )
    pdf_dpi: int = Field(300, ge=50, le=1200, description="Resolution PDFs are rendered at.")
    poll_interval_s: int = Field(60, ge=1, description="Folder-watch interval in seconds.")
    watch_mode: Literal["immediate", "schedule"] = Field(
        "immediate",
        description="immediate: serve watches the inbox and starts a run when files settle (an "
        "empty inbox makes no runs); schedule: a run every poll interval or on watch_cron.",
    )
    watch_cron: str | None = Field(
        None,
        description="Cron schedule of the folder watch in schedule mode ('0 2 * * *': every "
        "night at 02:00), instead of the poll interval.",
    )
    settle_s: float = Field(
        5.0, ge=0.0, description="An inbox file untouched this long counts as completely written."
    )
    inbox_batch: int = Field(100, ge=1, description="Most inbox files one run claims.")
    dask_address: str | None = Field(
        None,
        description="Run documents on Dask: 'local' for a local cluster, or a scheduler address.",
    )
    segment_workers: int = Field(
        2, ge=0, description="Processes that segment pages beside the reading (0: in process)."
    )

    @field_validator("*", mode="after")
    @classmethod
    def _from_project(cls, value: object) -> object:
        if isinstance(value, Path) and not value.is_absolute():
            return project_root() / value
        return value

    def run_time_dirs(self) -> tuple[Path, ...]:
        """The folders the folder watch reads and writes, made when serving starts."""
        return (
            self.inbox_dir,
            self.processing_dir,
            self.archive_dir,
            self.quarantine_dir,
            self.output_dir,
        )

    def require_datasets_dir(self) -> Path:
        """Return the datasets folder, or raise if it does not exist.

        Raises:
            ConfigurationError: the folder is missing.
        """
        if not self.datasets_dir.is_dir():
            raise ConfigurationError(
                "datasets folder not found",
                path=self.datasets_dir,
                remedy="Set DIGITISE_DATASETS_DIR to the folder holding mnist/ and emnist/",
            )
        return self.datasets_dir


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, with explicit overrides taking precedence."""
    return Settings(**overrides)  # type: ignore[arg-type]
