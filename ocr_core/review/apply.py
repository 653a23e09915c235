"""Apply a reviewer's answers: reviewed values, a change log, confirmed training examples."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ocr_core.errors import InputFileError
from ocr_core.reading.fields import assemble_value
from ocr_core.results.csvfiles import read_csv_rows, write_csv
from ocr_core.results.model_inputs import model_input_source
from ocr_core.results.records import FIELD_COLUMNS, CharKey, FieldKey, char_key
from ocr_core.review.answers import CharAnswer, FieldAnswer, read_char_answers, read_field_answers
from ocr_core.review.examples import REVIEWED_COLUMNS, REVIEWED_LABELS, Example, store_examples
from ocr_core.review.fieldcheck import check_field_value, field_specs, read_manifest, spec_for
from segmentation.records import FieldSpec
from segmentation.tickspec import MARK_KINDS

__all__ = ["REVIEWED_COLUMNS", "REVIEWED_LABELS", "ReviewOutcome", "apply_review"]

CHANGE_COLUMNS = ("document", "page", "field", "index", "before", "after", "reviewer")
Row = dict[str, str]


@dataclass(frozen=True, slots=True)
class ReviewOutcome:
    """What applying one review changed."""

    fields_answered: int
    reviewed: int  # characters answered in review.csv
    changed: int  # rows of changes.csv
    fields_changed: int
    still_failing: int
    examples_added: int
    examples_relabelled: int
    examples_withdrawn: int
    problems: tuple[str, ...]
    fields_reviewed_csv: str

    def report(self) -> str:
        """The outcome in plain text, one figure a line, then each problem."""
        lines = [
            f"{self.fields_answered} field(s) and {self.reviewed} character(s) answered",
            f"{self.fields_changed} field(s) changed ({self.changed} change(s) in changes.csv)",
            f"{self.still_failing} field(s) still need review",
            f"training examples: {self.examples_added} added, {self.examples_relabelled} "
            f"relabelled, {self.examples_withdrawn} withdrawn",
            f"reviewed values: {self.fields_reviewed_csv}",
        ]
        return "\n".join(lines + [f"not applied: {p}" for p in self.problems])


@dataclass(slots=True)
class Decision:
    """One field after review: its value and status, its changes, the examples it gives."""

    value: str
    status: str
    reason: str
    reviewer: str = ""
    changes: list[tuple[object, ...]] = field(default_factory=list)
    examples: list[tuple[Row, str]] = field(default_factory=list)  # crop row, label ("" withdraws)
    problem: str = ""


def apply_review(
    run_dir: Path,
    review_csv: Path,
    reviewed_dir: Path,
    *,
    fields_csv: Path | None = None,
    reviewer: str = "",
) -> ReviewOutcome:
    """Write ``fields_reviewed.csv`` and ``changes.csv``, and store what a person confirmed.

    A field's answer in ``review_fields.csv`` (its right value, a confirmation, or unreadable)
    wins over its characters' answers in ``review.csv``. Every value is checked against the
    field's spec (``check_field_value``); one that fails is reported and its field stays in
    review. Only crops a person corrected or confirmed become training examples, and a field's
    crops only when its value pairs one-to-one with them.

    Args:
        run_dir: the digitise-forms run folder (characters.csv, fields.csv, run.json).
        review_csv: the per-character sheet (may be missing).
        reviewed_dir: the training-data folder confirmed crops go to.
        fields_csv: the per-field sheet (default: ``run_dir/review_fields.csv``).
        reviewer: who answered, where the sheets do not say.

    Raises:
        InputFileError: the folder is not a run, or a sheet is malformed (row and column named).
        OutputError: a result could not be written.
    """
    manifest = read_manifest(run_dir)
    if not (run_dir / "run.json").is_file() or not (run_dir / "fields.csv").is_file():
        raise InputFileError(
            "not a finished digitise-forms run (no run.json or fields.csv)",
            path=run_dir,
            remedy="Name a run folder; python -m flows.review pending lists them",
        )
    char_answers = read_char_answers(review_csv) if review_csv.exists() else {}
    field_answers = read_field_answers(fields_csv or run_dir / "review_fields.csv")
    rows, changes, examples, problems = _decide_all(
        run_dir, manifest, field_answers, char_answers, reviewer
    )
    out = run_dir / "fields_reviewed.csv"
    write_csv(out, (*FIELD_COLUMNS, "changed", "reviewer"), rows)
    write_csv(run_dir / "changes.csv", CHANGE_COLUMNS, changes)
    stored = store_examples(reviewed_dir, examples)
    return ReviewOutcome(
        fields_answered=len(field_answers),
        reviewed=len(char_answers),
        changed=len(changes),
        fields_changed=sum(r[-2] is True for r in rows),
        still_failing=sum(r[6] == "needs_review" for r in rows),
        examples_added=stored.added,
        examples_relabelled=stored.relabelled,
        examples_withdrawn=stored.withdrawn,
        problems=tuple(problems),
        fields_reviewed_csv=str(out),
    )


def _decide_all(
    run_dir: Path,
    manifest: Mapping[str, object],
    field_answers: Mapping[FieldKey, FieldAnswer],
    char_answers: Mapping[CharKey, CharAnswer],
    reviewer: str,
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], list[Example], list[str]]:
    """Every field of the run after review: its row, its changes, its examples, its problem."""
    specs = field_specs(run_dir, manifest)
    crops: dict[FieldKey, list[Row]] = defaultdict(list)
    for row in read_csv_rows(run_dir / "characters.csv"):
        crops[char_key(row)[:3]].append(row)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    rows: list[tuple[object, ...]] = []
    changes: list[tuple[object, ...]] = []
    examples: list[Example] = []
    problems: list[str] = []
    for row in read_csv_rows(run_dir / "fields.csv"):
        key = (row["document"], int(row["page"]), row["field"])
        spec = spec_for(key, specs, manifest)
        decision = decide(row, crops.get(key, []), field_answers.get(key), char_answers, spec)
        who = decision.reviewer or reviewer
        rows.append(_reviewed_row(row, decision, who))
        changes += [(*c, who) for c in decision.changes]
        examples += [
            Example(
                *model_input_source(run_dir, c["crop"], int(c["index"])),
                label,
                run_dir.name,
                char_key(c),
                who,
                now,
                spec.charset,
            )
            for c, label in decision.examples
        ]
        problems += [decision.problem] if decision.problem else []
    return rows, changes, examples, problems


def _reviewed_row(row: Row, d: Decision, reviewer: str) -> tuple[object, ...]:
    became_unreadable = d.status == "unreadable" and row["status"] != "unreadable"
    changed = d.value != row["value"] or became_unreadable
    return (
        row["document"],
        int(row["page"]),
        row["field"],
        d.value,
        row["confidence"],
        d.status == "needs_review",
        d.status,
        d.reason,
        changed,
        reviewer if d.reviewer or d.examples or changed else "",
    )


def decide(
    row: Row,
    crops: Sequence[Row],
    answer: FieldAnswer | None,
    char_answers: Mapping[CharKey, CharAnswer],
    spec: FieldSpec,
) -> Decision:
    """One field after review: its field answer wins, else its characters' answers, else as read."""
    crops = sorted(crops, key=lambda c: int(c["index"]))
    if answer is not None and answer.answered:
        return _field_decision(row, crops, answer, spec)
    if spec.kind in MARK_KINDS:  # tick boxes: no characters, a review.csv row per box
        fkey = (row["document"], int(row["page"]), row["field"])
        boxes = {k[3]: a for k, a in char_answers.items() if k[:3] == fkey and a.correction}
        return _box_decision(row, boxes, spec) if boxes else Decision(*_as_read(row))
    answered = [(c, char_answers[char_key(c)]) for c in crops if char_key(c) in char_answers]
    if answered:
        return _char_decision(row, crops, dict((char_key(c), a) for c, a in answered), spec)
    return Decision(*_as_read(row))


def _as_read(row: Row) -> tuple[str, str, str]:
    return row["value"], row["status"], row["reason"]


def _box_decision(row: Row, boxes: Mapping[int, CharAnswer], spec: FieldSpec) -> Decision:
    """A tick-box field from its boxes' corrections in review.csv (1 ticked, 0 empty).

    A tick box takes its box's answer; a tick-one group takes the one option answered ``1``.
    Anything else (two ticks, only boxes emptied) is left for a whole-field answer.
    """
    who = next((a.reviewer for a in boxes.values() if a.reviewer), "")
    ticked = [i for i, a in boxes.items() if a.correction == "1"]
    value: str | None = None
    if spec.kind == "mark":
        value = boxes[0].correction if 0 in boxes else row["value"]
    elif len(ticked) == 1 and ticked[0] < len(spec.options):
        value = spec.options[ticked[0]].value
    problems = ["not one ticked option"] if value is None else check_field_value(value, spec)
    if value is None or problems:
        reason = f"reviewed boxes rejected: {'; '.join(problems)}"
        hint = " (answer the whole field in review_fields.csv)"
        problem = f"{row['field']}: {reason}{hint}"
        return Decision(row["value"], "needs_review", reason, who, problem=problem)
    d = Decision(value, "ok", "", who)
    if value != row["value"]:
        d.changes.append((row["document"], row["page"], row["field"], "", row["value"], value))
    return d


def _field_decision(
    row: Row, crops: Sequence[Row], answer: FieldAnswer, spec: FieldSpec
) -> Decision:
    key = (row["document"], row["page"], row["field"])
    if answer.unreadable:
        d = Decision("", "unreadable", "unreadable on paper (reviewer)", answer.reviewer)
        d.changes.append((*key, "", row["value"], ""))
        d.examples = [(c, "") for c in crops]  # whatever was learnt from them is in doubt
        return d
    value = answer.correction or row["value"]
    problems = check_field_value(value, spec)
    if problems:
        reason = f"reviewer's value {value!r} rejected: {'; '.join(problems)}"
        return Decision(
            row["value"],
            "needs_review",
            reason,
            answer.reviewer,
            problem=f"{answer.where}: {row['field']}: {reason}",
        )
    d = Decision(value, "ok", "", answer.reviewer)
    if value != row["value"]:
        d.changes.append((*key, "", row["value"], value))
    d.examples = pair_crops(value, crops)
    return d


def pair_crops(value: str, crops: Sequence[Row]) -> list[tuple[Row, str]]:
    """Each crop with its character of ``value``, when they pair one-to-one; else withdrawals.

    Crops and the value's characters (spaces, which stand for gaps, left out) pair in order
    when there are as many of each. Otherwise the cut does not match what was written (a W cut
    in two), no crop's label can be known, and any earlier label of these crops is withdrawn.
    """
    letters = value.replace(" ", "")
    if len(letters) == len(crops):
        return list(zip(crops, letters, strict=True))
    return [(c, "") for c in crops]


def _char_decision(
    row: Row, crops: Sequence[Row], answers: Mapping[CharKey, CharAnswer], spec: FieldSpec
) -> Decision:
    key = (row["document"], row["page"], row["field"])
    final: list[tuple[int, str]] = []
    changes: list[tuple[object, ...]] = []
    too_long = []
    for c in crops:
        a = answers.get(char_key(c))
        char = a.correction if a and a.correction else c["char"]
        if len(char) > 1:
            too_long.append(f"{a.where if a else ''}: {char!r} is more than one character")
            char = c["char"]
        if char != c["char"]:
            changes.append((*key, int(c["index"]), c["char"], char))
        final.append((int(c["index"]), char))
    value = assemble_value(final)
    problems = too_long or check_field_value(value, spec)
    who = next((a.reviewer for a in answers.values() if a.reviewer), "")
    if problems:
        reason = f"reviewed value {value!r} rejected: {'; '.join(problems)}"
        hint = " (correct the whole field in review_fields.csv)" if too_long else ""
        return Decision(
            row["value"], "needs_review", reason, who, problem=f"{row['field']}: {reason}{hint}"
        )
    examples = [(c, dict(final)[int(c["index"])]) for c in crops if char_key(c) in answers]
    return Decision(value, "ok", "", who, changes, examples)
