"""Write a run's result files: the CSVs, the review page, the run manifest and the summary."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import jinja2

from ocr_core.files import write_atomic
from ocr_core.reading.context import RunContext
from ocr_core.reading.document import DocumentResult
from ocr_core.results.char_crops import crop_view
from ocr_core.results.csvfiles import write_csv, write_records
from ocr_core.results.field_images import image_listing
from ocr_core.results.records import (
    CHAR_COLUMNS,
    ERROR_COLUMNS,
    FIELD_COLUMNS,
    REVIEW_COLUMNS,
    UNSUPPORTED,
    CharRow,
    ErrorRow,
    FieldKey,
    FieldRow,
    rules_key,
)
from ocr_core.results.review_fields import REVIEW_FIELD_COLUMNS, review_field_rows

MANIFEST = "run.json"


@dataclass(frozen=True, slots=True)
class RunSummary:
    """The figures of one run, as shown in the summary artifact and printed by the CLI."""

    run_dir: str
    documents: int
    processed: int
    failed: int
    skipped: int
    pages: int
    fields: int
    characters: int
    needs_review: int
    seconds: float

    @property
    def review_share(self) -> float:
        """Share of characters that need review."""
        return self.needs_review / self.characters if self.characters else 0.0

    @property
    def seconds_per_page(self) -> float:
        """Wall-clock seconds per page over the whole run."""
        return self.seconds / self.pages if self.pages else 0.0

    def table(self) -> list[dict[str, object]]:
        """Rows of (figure, value) for a table artifact."""
        return [
            {"figure": "documents", "value": self.documents},
            {"figure": "processed", "value": self.processed},
            {"figure": "failed (see errors.csv)", "value": self.failed},
            {"figure": "skipped (already processed, or not a document)", "value": self.skipped},
            {"figure": "pages", "value": self.pages},
            {"figure": "fields", "value": self.fields},
            {"figure": "characters", "value": self.characters},
            {"figure": "characters needing review", "value": self.needs_review},
            {"figure": "share needing review", "value": f"{self.review_share:.1%}"},
            {"figure": "seconds per page", "value": f"{self.seconds_per_page:.3f}"},
        ]

    def markdown(self) -> str:
        """A short markdown report of the run."""
        lines = ["# digitise-forms run", "", f"Results: `{self.run_dir}`", ""]
        lines += ["| figure | value |", "|---|---|"]
        lines += [f"| {row['figure']} | {row['value']} |" for row in self.table()]
        return "\n".join(lines) + "\n"


def summarise(
    context: RunContext,
    results: Sequence[DocumentResult],
    errors: Sequence[ErrorRow],
    skipped: Sequence[str],
) -> RunSummary:
    """The run's figures, its time measured up to now."""
    chars = [row for r in results for row in r.chars]
    unsupported = sum(e.error == UNSUPPORTED for e in errors)  # listed, not failed
    return RunSummary(
        run_dir=str(context.run_dir),
        documents=len(results) + len(errors) + len(skipped),
        processed=len(results),
        failed=len(errors) - unsupported,
        skipped=len(skipped) + unsupported,
        pages=sum(r.pages for r in results),
        fields=sum(len(r.fields) for r in results),
        characters=len(chars),
        needs_review=sum(c.needs_review for c in chars),
        seconds=(datetime.now(UTC) - context.started).total_seconds(),
    )


def run_manifest(
    context: RunContext,
    results: Sequence[DocumentResult],
    skipped: Sequence[str],
    inputs: Mapping[str, str],
    summary: RunSummary,
) -> dict[str, object]:
    """What ``run.json`` holds: the run's templates, models, thresholds, choices and summary."""
    return {
        "started": context.started.isoformat(timespec="seconds"),
        "templates": list(context.template_paths),
        "model": context.model,
        "threshold": context.threshold,
        "thresholds": dict(context.thresholds),
        "field_thresholds": dict(context.field_thresholds),
        "skipped": list(skipped),
        "page_templates": {r.document: list(r.templates) for r in results},
        "field_rules": {
            rules_key((r.document, page, field)): rules
            for r in results
            for page, field, rules in r.rules
        },
        "field_images": image_listing([i for r in results for i in r.images]),
        "summary": {row["figure"]: row["value"] for row in summary.table()},
        # Folder watch: the SHA-256 of each file whose results these are (run.json is written
        # last, so its presence means they are complete; see intake.plan.committed_inputs).
        "inputs": dict(inputs),
    }


def write_run(
    context: RunContext,
    results: Sequence[DocumentResult],
    errors: Sequence[ErrorRow],
    skipped: Sequence[str] = (),
    inputs: Mapping[str, str] | None = None,
) -> RunSummary:
    """Write every result file of a run into its folder, ``run.json`` last; return its summary.

    Args:
        context: the run.
        results: the documents read, in the run's order.
        errors: the documents that failed.
        skipped: the names of files not read, as identical to ones read before.
        inputs: content hash -> document, for the files whose results these are (folder watch).

    Raises:
        OutputError: a file could not be written.
    """
    fields = [row for r in results for row in r.fields]
    chars = [row for r in results for row in r.chars]
    summary = summarise(context, results, errors, skipped)
    manifest = run_manifest(context, results, skipped, inputs or {}, summary)
    marks = [row for r in results for row in r.marks]
    write_results(context.run_dir, fields, chars, errors, manifest, marks)
    return summary


def review_rows(fields: Sequence[FieldRow], chars: Sequence[CharRow]) -> list[CharRow]:
    """Characters a person should look at: every one of a field that needs review.

    A field needs review when one of its characters is uncertain or a validator fails it; its
    confident characters come too, so that a reviewer who sees one of them misread can correct it.
    """
    failed = {f.key for f in fields if f.needs_review}
    return [c for c in chars if c.needs_review or c.field_key in failed]


def write_results(
    run_dir: Path,
    fields: Sequence[FieldRow],
    chars: Sequence[CharRow],
    errors: Sequence[ErrorRow],
    manifest: dict[str, object],
    marks: Sequence[CharRow] = (),
) -> None:
    """Write every result file of a run, each atomically; the manifest last.

    ``marks`` are the tick boxes of fields that need review: they go to ``review.csv`` (and
    the review page) beside the characters, never to ``characters.csv``.

    Raises:
        OutputError: a file could not be written.
    """
    to_review = [*review_rows(fields, chars), *marks]
    images = manifest.get("field_images", {})
    assert isinstance(images, dict)
    write_records(run_dir / "fields.csv", FIELD_COLUMNS, fields)
    write_records(run_dir / "characters.csv", CHAR_COLUMNS, chars)
    write_csv(run_dir / "review.csv", REVIEW_COLUMNS, ((*astuple(c), "", "") for c in to_review))
    sheet = (list(r.values()) for r in review_field_rows(fields, images))
    write_csv(run_dir / "review_fields.csv", REVIEW_FIELD_COLUMNS, sheet)
    write_records(run_dir / "errors.csv", ERROR_COLUMNS, errors)
    page = review_page(fields, to_review, images)
    write_atomic(run_dir / "review.html", page.encode("utf-8"))
    write_atomic(run_dir / MANIFEST, json.dumps(manifest, indent=2).encode("utf-8"))


@dataclass(frozen=True, slots=True)
class ReviewGroup:
    """One field on the review page: where it is, its row (value and reason), its characters."""

    document: str
    page: int
    field: str
    row: FieldRow | None
    chars: tuple[CharRow, ...]
    image: str = ""

    @property
    def uncertain(self) -> list[CharRow]:
        """The field's uncertain characters, by index."""
        return sorted((c for c in self.chars if c.needs_review), key=lambda c: c.index)


def review_page(
    fields: Sequence[FieldRow], chars: Sequence[CharRow], images: Mapping[str, object] | None = None
) -> str:
    """A static, read-only report: each field's image in place, its uncertain characters.

    Each field shows its image cut from the page (character boxes drawn, uncertain ones orange),
    its value as read and why it needs review, and only its uncertain characters beside their
    top-3 suggestions; the page names the commands that review and apply. It is rendered from
    ``templates/review.html.j2`` with every value escaped.

    Args:
        fields: the run's fields (for the value and reason of each field shown).
        chars: the characters to review, grouped by field (``review_rows``).
        images: ``document|page|field`` -> the field's image, run-relative.
    """
    about = {f.key: f for f in fields}
    # Every field that needs review, those with no character too (unreadable, or nothing
    # written on its page), in the run's order.
    grouped: dict[FieldKey, list[CharRow]] = {f.key: [] for f in fields if f.needs_review}
    for c in chars:
        grouped.setdefault(c.field_key, []).append(c)
    images = images or {}
    groups = [
        ReviewGroup(*key, about.get(key), tuple(rows), str(images.get(rules_key(key), "")))
        for key, rows in grouped.items()
    ]
    return (
        _templates()
        .get_template("review.html.j2")
        .render(
            groups=groups,
            uncertain=sum(c.needs_review for c in chars),
            percent=lambda p: f"{p:.0%}",
            crop_view=crop_view,
        )
    )


@lru_cache(maxsize=1)
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("ocr_core.results", "templates"),
        autoescape=True,  # names, readings and paths come from users' files
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
