"""Template schema for tick boxes (``mark``), tick-one groups (``choice``) and lists of values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from segmentation.records import Box, FieldSpec, FieldValidation, MarkOption

MARK_KINDS = ("mark", "choice")
MAX_CHOICES_FILE = 50 * 1024 * 1024  # a town list is a few hundred kB; refuse anything huge


def mark_spec(
    item: dict[str, Any], name: str, page: tuple[int, int], dpi: int, fail: Any
) -> FieldSpec:
    """A ``mark`` or ``choice`` field from its template entry (``kind`` already checked).

    Tick boxes are small (3-5 mm squares are common), so the height asked of writing boxes
    does not apply: a box need only be 1/15 inch on each side.

    Raises:
        TemplateError: (from ``fail``) a malformed box or option, a key a tick box cannot
            have, duplicate option values or overlapping options.
    """
    where = f"field {name!r}"
    for key in ("cells", "charset", "validate", "max_chars", "choices_file"):
        if key in item:
            raise fail(where, f"a {item['kind']} field has no {key}", f"Remove {key}")
    label = str(item.get("label", name.replace("_", " ").capitalize()))
    if item["kind"] == "mark":
        if "options" in item:
            raise fail(where, "a mark has one box and no options", "Use kind: choice")
        box = _mark_box(item.get("box"), page, dpi, where, fail)
        return tick_box_spec(name, box, label)
    if "box" in item:
        raise fail(where, "a choice has a box per option, not one box", "Remove box")
    options = _options(item.get("options"), page, dpi, where, fail)
    boxes = [o.box for o in options]
    outer = (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
    return FieldSpec(name, "choice", "", outer, max_chars=1, label=label, options=options)


def _options(
    raw: Any, page: tuple[int, int], dpi: int, where: str, fail: Any
) -> tuple[MarkOption, ...]:
    """A choice's options: at least two, each ``{value: ..., box: [...]}``, values unique."""
    if not isinstance(raw, list) or len(raw) < 2:
        raise fail(
            where,
            "options must list at least two {value, box}",
            "Use options: [{value: MR, box: [x0, y0, x1, y1]}, ...]",
        )
    options: list[MarkOption] = []
    for number, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict) or set(entry) != {"value", "box"}:
            raise fail(where, f"option {number} is not {{value, box}}", "Give value and box only")
        value = entry["value"]
        if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
            raise fail(where, f"option {number} value {value!r} is empty or not text")
        value = str(value).strip()
        if any(o.value == value for o in options):
            raise fail(where, f"option value {value!r} is given twice", "Make each value unique")
        box = _mark_box(entry["box"], page, dpi, f"{where} option {value!r}", fail)
        for other in options:
            if (
                box[0] < other.box[2]
                and other.box[0] < box[2]
                and box[1] < other.box[3]
                and other.box[1] < box[3]
            ):
                raise fail(where, f"option {value!r} overlaps option {other.value!r}")
        options.append(MarkOption(value, box))
    return tuple(options)


def _mark_box(box: Any, page: tuple[int, int], dpi: int, where: str, fail: Any) -> Box:
    """A tick box ``(x0, y0, x1, y1)``: inside the page, at least 1/15 inch each way."""
    if not (
        isinstance(box, list | tuple)
        and len(box) == 4
        and all(isinstance(v, int) and not isinstance(v, bool) for v in box)
    ):
        raise fail(where, f"box {box!r} is not [x0, y0, x1, y1]", "Give four whole numbers")
    x0, y0, x1, y1 = (int(v) for v in box)
    if not (0 <= x0 < x1 <= page[0] and 0 <= y0 < y1 <= page[1]):
        raise fail(where, f"box {list(box)} is empty or outside the {page[0]}x{page[1]} page")
    least = dpi // 15
    if min(x1 - x0, y1 - y0) < least:
        raise fail(
            where,
            f"tick box is {x1 - x0}x{y1 - y0} px",
            f"Make it at least {least} px (1/15 in) each way",
        )
    return x0, y0, x1, y1


def with_choices(
    validation: FieldValidation, raw: Any, choices_file: Any, folder: Path, where: str, fail: Any
) -> FieldValidation:
    """The field's validation with its list of allowed values, from ``validate.choices`` or a file.

    Args:
        validation: the field's other validators.
        raw: ``validate.choices`` as written, or None.
        choices_file: ``choices_file`` as written (a file beside the template), or None.
        folder: the template's folder.
        where: the field, for messages.
        fail: makes the template's error from (where, problem, fix).

    Raises:
        TemplateError: (from ``fail``) both given, an empty or malformed list, a file outside
            the template's folder or unreadable.
    """
    if raw is None and choices_file is None:
        return validation
    if raw is not None and choices_file is not None:
        raise fail(where, "both validate.choices and choices_file are given", "Keep one of them")
    if raw is not None:
        if not isinstance(raw, list) or not all(
            isinstance(v, str | int) and not isinstance(v, bool) for v in raw
        ):
            raise fail(
                where, f"validate.choices {raw!r} is not a list of values", "Use e.g. [MR, MRS]"
            )
        values = _clean(str(v) for v in raw)
        source = None
    else:
        values, source = _read_choices_file(choices_file, folder, where, fail), str(choices_file)
    if not values:
        raise fail(where, "the list of allowed values is empty", "Give at least one value")
    return FieldValidation(validation.regex, validation.date, validation.luhn, values, source)


def _read_choices_file(raw: Any, folder: Path, where: str, fail: Any) -> tuple[str, ...]:
    """The values in a ``choices_file`` (one a line; blank lines and ``#`` comments skipped)."""
    if not isinstance(raw, str) or not raw.strip():
        raise fail(where, f"choices_file {raw!r} is not a file name")
    folder = folder.resolve()
    path = (folder / raw).resolve()
    if Path(raw).is_absolute() or not path.is_relative_to(folder):
        raise fail(
            where,
            f"choices_file {raw!r} is outside the template's folder {folder}",
            "Put the list beside the template and give its file name only",
        )
    try:
        if path.stat().st_size > MAX_CHOICES_FILE:
            raise fail(where, f"choices_file {path} is over 50 MB", "Give one value a line")
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as e:
        raise fail(where, f"choices_file {path} not found", "Put it beside the template") from e
    except (OSError, UnicodeDecodeError) as e:
        raise fail(where, f"cannot read choices_file {path} ({e})", "Save it as UTF-8 text") from e
    return _clean(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def _clean(values: Any) -> tuple[str, ...]:
    """Values stripped, blanks dropped, duplicates dropped (first kept), in order."""
    seen: dict[str, None] = {}
    for value in values:
        value = " ".join(value.split())
        if value:
            seen.setdefault(value, None)
    return tuple(seen)


def tick_box_spec(name: str, box: Box, label: str = "") -> FieldSpec:
    """A lone tick box: one option, ``1`` when ticked (a template's or one the detector found)."""
    return FieldSpec(
        name, "mark", "01", box, max_chars=1, label=label, options=(MarkOption("1", box),)
    )
