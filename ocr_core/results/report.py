"""What a person reads when a run ends: its figures, its failed documents, what to do next."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ocr_core.results.csvfiles import read_csv_rows
from ocr_core.results.records import UNSUPPORTED, ErrorRow, FieldRow
from ocr_core.results.write import RunSummary

REVIEW_COMMAND: Final = "python -m flows.review serve {run_dir}"
SHOWN: Final = 20  # rows listed in the plain-text summary; the CSVs hold every one


@dataclass(frozen=True, slots=True)
class ReviewField:
    """A field a person should check: where it is and why."""

    document: str
    page: int
    field: str
    value: str
    reason: str


@dataclass(frozen=True, slots=True)
class RunReport:
    """A run's summary with the documents that failed and the fields to review."""

    summary: RunSummary
    failed: tuple[ErrorRow, ...]
    unsupported: tuple[ErrorRow, ...]
    to_review: tuple[ReviewField, ...]
    taken_over: tuple[str, ...] = ()  # runs that died, whose files this run read again

    @property
    def run_dir(self) -> Path:
        """The run's result folder."""
        return Path(self.summary.run_dir)

    @property
    def review_page(self) -> Path:
        """The static review page of the run."""
        return self.run_dir / "review.html"

    def next_steps(self) -> list[str]:
        """What to do now, one instruction a line."""
        steps = []
        if self.failed:
            errors = self.run_dir / "errors.csv"
            steps.append(f"Fix or rescan the failed documents; the reasons are in {errors}")
        if self.to_review:
            command = REVIEW_COMMAND.format(run_dir=self.run_dir)
            steps.append(f"Review the flagged fields: {command}  (or open {self.review_page})")
        if not steps:
            steps.append(f"Nothing to review; the results are in {self.run_dir / 'fields.csv'}")
        return steps

    def text(self) -> str:
        """The plain-text summary the command line prints."""
        s = self.summary
        lines = [
            f"Results: {s.run_dir}",
            f"  {s.processed} of {s.documents} document(s) read, {s.pages} page(s), "
            f"{s.fields} field(s) in {s.seconds:.1f} s",
            f"  {s.needs_review} of {s.characters} character(s) need review "
            f"({s.review_share:.1%}); {len(self.to_review)} field(s) to check",
        ]
        if s.skipped:
            lines.append(f"  {s.skipped} file(s) skipped (already processed, or not a document)")
        for run in self.taken_over:
            lines.append(
                f"  took over the files of run {run}, which was killed (marked incomplete)"
            )
        lines += _listed(f"Failed ({len(self.failed)}):", [e.message for e in self.failed])
        lines += _listed(
            f"Skipped, not documents ({len(self.unsupported)}):",
            [e.message for e in self.unsupported],
        )
        lines += _listed(
            f"Fields to review ({len(self.to_review)}):",
            [f"{f.document} p{f.page} {f.field} = {f.value!r}: {f.reason}" for f in self.to_review],
        )
        lines += ["Next:", *(f"  - {step}" for step in self.next_steps())]
        return "\n".join(lines) + "\n"

    def markdown(self) -> str:
        """The Markdown report of the run's Prefect artifact (every row, not the first few)."""
        lines = ["# digitise-forms run", "", f"Results: `{self.run_dir}`", ""]
        lines += ["| figure | value |", "|---|---|"]
        lines += [f"| {row['figure']} | {row['value']} |" for row in self.summary.table()]
        if self.taken_over:
            lines += ["", "Took over the files of killed run(s), marked incomplete: "]
            lines += [f"- `{run}`" for run in self.taken_over]
        if self.failed or self.unsupported:
            lines += ["", "## Failed or skipped documents", "", "| document | error | reason |"]
            lines += ["|---|---|---|"]
            lines += [
                f"| {_cell(e.document)} | {e.error} | {_cell(e.message)} |"
                for e in (*self.failed, *self.unsupported)
            ]
        if self.to_review:
            lines += ["", "## Fields to review", "", "| document | page | field | value | why |"]
            lines += ["|---|---|---|---|---|"]
            lines += [
                f"| {_cell(f.document)} | {f.page} | {_cell(f.field)} | {_cell(f.value)} | "
                f"{_cell(f.reason)} |"
                for f in self.to_review
            ]
        lines += ["", "## Next", "", *(f"- {step}" for step in self.next_steps())]
        return "\n".join(lines) + "\n"


def _listed(title: str, items: Sequence[str]) -> list[str]:
    if not items:
        return []
    shown = [f"  - {item}" for item in items[:SHOWN]]
    if len(items) > SHOWN:
        shown.append(f"  ... and {len(items) - SHOWN} more (see the CSVs)")
    return [title, *shown]


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def build_report(
    summary: RunSummary,
    errors: Sequence[ErrorRow],
    fields: Sequence[FieldRow],
    taken_over: Sequence[str] = (),
) -> RunReport:
    """The report of a run from its rows."""
    return RunReport(
        summary=summary,
        failed=tuple(e for e in errors if e.error != UNSUPPORTED),
        unsupported=tuple(e for e in errors if e.error == UNSUPPORTED),
        to_review=tuple(
            ReviewField(f.document, f.page, f.field, f.value, f.reason or f.status)
            for f in fields
            if f.needs_review
        ),
        taken_over=tuple(taken_over),
    )


def read_report(summary: RunSummary) -> RunReport:
    """The report of a written run, from its ``errors.csv`` and ``fields.csv``.

    Raises:
        OutputError: a result file is missing or unreadable.
    """
    folder = Path(summary.run_dir)
    errors = [ErrorRow(**row) for row in read_csv_rows(folder / "errors.csv")]
    fields = [
        ReviewField(
            r["document"], int(r["page"]), r["field"], r["value"], r["reason"] or r["status"]
        )
        for r in read_csv_rows(folder / "fields.csv")
        if r["needs_review"] == "true"
    ]
    report = build_report(summary, errors, [])
    return RunReport(report.summary, report.failed, report.unsupported, tuple(fields))
