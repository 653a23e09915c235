"""The run context: what every stage of a digitise run needs to know, fixed when it starts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from ocr_core.errors import OutputError
from ocr_core.reading.recognisers import AUTO, Recognisers, load_recognisers, preload
from ocr_core.reading.segmenter import start_workers
from ocr_core.settings import Settings
from segmentation import load_templates
from segmentation.records import Template


@dataclass(frozen=True, slots=True)
class RunContext:
    """One digitise run's fixed state: its settings, folder, templates, models and thresholds."""

    settings: Settings
    run_dir: Path
    template_paths: tuple[str, ...]  # resolved template files or folders; empty: template-free
    model: str  # ``auto`` or one bundle name
    threshold: float | None  # the override applied to every bundle; None: each bundle's own
    thresholds: Mapping[str, float]  # the review threshold each bundle applies
    show_progress: bool
    started: datetime
    field_thresholds: Mapping[str, float] = field(default_factory=dict)  # each bundle's, if any

    @property
    def run(self) -> str:
        """The run's name (its result folder's name)."""
        return self.run_dir.name

    def recognisers(self) -> Recognisers:
        """The run's loaded model bundles (loaded once per process)."""
        return load_recognisers(str(self.settings.models_dir), self.model, self.threshold)

    def templates(self) -> tuple[Template, ...]:
        """The run's form templates (loaded once per process); empty when template-free."""
        return load_template_set(self.template_paths)


@lru_cache(maxsize=16)
def load_template_set(paths: tuple[str, ...]) -> tuple[Template, ...]:
    """The templates in these files and folders, loaded once per process.

    Raises:
        TemplateError: a template is missing or invalid.
    """
    return tuple(load_templates([Path(p) for p in paths]))


def template_paths(
    templates: Sequence[str] | None, template_free: bool, default_dir: Path
) -> tuple[str, ...]:
    """The resolved templates a run uses: those named, else the default folder; none if free."""
    if template_free:
        return ()
    chosen = [Path(t) for t in templates] if templates else [default_dir]
    return tuple(str(p.resolve()) for p in chosen)


def make_run_dir(run_dir: Path) -> Path:
    """Make the run's result folder.

    Raises:
        OutputError: the folder cannot be made (before any input is claimed).
    """
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(
            f"cannot make the run folder ({e.strerror or e})",
            path=run_dir,
            remedy="Check that the output folder is a writable folder with free space",
        ) from e
    return run_dir


def prepare_run(settings: Settings, model: str = AUTO) -> None:
    """Start what a run spends its first seconds on, and return without waiting for it.

    The segmentation workers start, and the bundles ``model`` needs begin to load (TensorFlow
    first, on a thread of their own). A command calls it while the Prefect server starts, a
    wait of several seconds for a process of its own; ``open_run`` then finds both ready, or
    waits only for the rest.
    """
    start_workers()
    preload(settings.models_dir, model)


def open_run(
    settings: Settings,
    run_dir: Path,
    *,
    templates: Sequence[str] | None = None,
    template_free: bool = False,
    model: str = AUTO,
    threshold: float | None = None,
    show_progress: bool = False,
    started: datetime,
) -> RunContext:
    """Load the models and templates, make the run folder, and fix the run's context.

    Models load first: a broken bundle stops the run before any input is claimed, and so does a
    bad template or an output folder that cannot be made.

    Args:
        settings: the run's settings, loaded once.
        run_dir: the run's result folder (made here).
        templates: template files or folders (default: the settings' templates folder).
        template_free: ignore templates and detect fields from the page's lines.
        model: ``auto`` or one bundle name.
        threshold: a review threshold for every bundle; None takes the ``review_threshold``
            setting (``DIGITISE_REVIEW_THRESHOLD``), and when that is unset too each bundle
            applies its own (its pipeline threshold, else its default).
        show_progress: print "documents done of total" as documents finish.
        started: when the run started.

    Raises:
        ModelError: a bundle is missing or broken.
        TemplateError: a template is missing or invalid.
        OutputError: the run folder cannot be made.
    """
    if threshold is None:  # the run's own threshold wins over the setting
        threshold = settings.review_threshold
    start_workers()  # they start on the other core while the models load
    recognisers = load_recognisers(str(settings.models_dir), model, threshold)
    paths = template_paths(templates, template_free, settings.templates_dir)
    load_template_set(paths)
    return RunContext(
        settings=settings,
        run_dir=make_run_dir(run_dir),
        template_paths=paths,
        model=model,
        threshold=threshold,
        thresholds=recognisers.thresholds(),
        show_progress=show_progress,
        started=started,
        field_thresholds=recognisers.field_thresholds(),
    )
