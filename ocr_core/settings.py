"""The one validated settings object: folders and defaults, read from ``DIGITISE_*`` variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ocr_core.errors import ConfigurationError


class Settings(BaseSettings):
    """Where the pipeline reads and writes, and its run-time defaults.

    Every field can be set by an environment variable named ``DIGITISE_`` plus the field name in
    upper case (``DIGITISE_DATASETS_DIR=/srv/datasets``) or by a ``.env`` file in the working
    directory. Relative paths are taken from the working directory.
    """

    model_config = SettingsConfigDict(
        env_prefix="DIGITISE_", env_file=".env", extra="ignore", frozen=True
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
    settle_s: float = Field(
        5.0, ge=0.0, description="An inbox file untouched this long counts as completely written."
    )
    inbox_batch: int = Field(100, ge=1, description="Most inbox files one run claims.")
    dask_address: str | None = Field(
        None,
        description="Run documents on Dask: 'local' for a local cluster, or a scheduler address.",
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
