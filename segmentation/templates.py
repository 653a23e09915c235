"""Form templates: read and validate YAML, and the geometry every stage shares (marks, lines)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from PIL import Image

from ocr_core.errors import TemplateError
from segmentation.records import Box, FieldSpec, FieldValidation, Template
from segmentation.tickspec import MARK_KINDS, mark_spec, with_choices

CHARSETS = ("digits", "upper", "lower", "letters", "alnum")
KINDS = ("comb", "box", *MARK_KINDS)
TICK_FRACTION = 0.35
"""Cell ticks rise from a comb's bottom line to this fraction of its height."""

_TOP_KEYS = {"name", "title", "dpi", "size", "marks", "reference_image", "fields"}
_FIELD_KEYS = {"name", "kind", "cells", "charset", "box", "validate", "max_chars", "label"}
_FIELD_KEYS |= {"options", "choices_file"}
_VALIDATE_KEYS = {"regex", "date", "luhn", "choices"}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def line_width(dpi: int) -> int:
    """Printed line thickness in pixels at ``dpi`` (1/100 inch, at least 2)."""
    return max(2, round(dpi / 100))


def mark_boxes(size: tuple[int, int], dpi: int) -> tuple[Box, Box, Box, Box]:
    """The four registration marks, solid squares, clockwise from the top-left.

    Args:
        size: page (width, height) in pixels.
        dpi: the page's resolution.

    Returns:
        Boxes (x0, y0, x1, y1) of the top-left, top-right, bottom-right and bottom-left marks.
    """
    width, height = size
    side, inset = round(dpi * 0.2), round(dpi * 0.45)
    x_left, x_right = inset, width - inset - side
    y_top, y_bottom = inset, height - inset - side
    return (
        (x_left, y_top, x_left + side, y_top + side),
        (x_right, y_top, x_right + side, y_top + side),
        (x_right, y_bottom, x_right + side, y_bottom + side),
        (x_left, y_bottom, x_left + side, y_bottom + side),
    )


def field_lines(spec: FieldSpec) -> list[Box]:
    """The printed line segments of a field, each (x0, y0, x1, y1) along the line's centre.

    Horizontal segments have y0 == y1, vertical ones x0 == x1. Comb fields with equal cells have
    ticks rising TICK_FRACTION of the height from the bottom line; explicit cells are full boxes.
    """
    if spec.kind in MARK_KINDS:  # a frame per tick box
        return [line for o in spec.options for line in _frame(o.box)]
    _x0, y0, _x1, y1 = spec.box
    lines = _frame(spec.box)
    if spec.kind != "comb":
        return lines
    if spec.explicit_cells:
        for cx0, cy0, cx1, cy1 in spec.cells:
            lines += [(cx0, cy0, cx1, cy0), (cx0, cy1, cx1, cy1)]
            lines += [(cx0, cy0, cx0, cy1), (cx1, cy0, cx1, cy1)]
        return lines
    tick_top = round(y1 - TICK_FRACTION * (y1 - y0))
    lines += [(cell[0], tick_top, cell[0], y1) for cell in spec.cells[1:]]
    return lines


def _frame(box: Box) -> list[Box]:
    x0, y0, x1, y1 = box
    return [(x0, y0, x1, y0), (x0, y1, x1, y1), (x0, y0, x0, y1), (x1, y0, x1, y1)]


def load_templates(paths: Sequence[Path]) -> list[Template]:
    """Load several templates; a folder stands for the ``*.yaml`` files in it.

    Args:
        paths: YAML files and folders.

    Returns:
        The templates, folders expanded in name order.

    Raises:
        TemplateError: a file is invalid, a folder holds no templates, or two share a name.
    """
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
            if not found:
                raise TemplateError("folder holds no *.yaml templates", path=path)
            files += found
        else:
            files.append(path)
    templates = [load_template(file) for file in files]
    seen: dict[str, Path] = {}
    for template in templates:
        if template.name in seen:
            raise TemplateError(
                f"template name {template.name!r} is also used by {seen[template.name]}",
                path=template.source,
                remedy="Give every template a unique name",
            )
        seen[template.name] = template.source
    return templates


def load_template(path: Path) -> Template:
    """Read and validate one YAML form template (schema in data/templates/README.md).

    Args:
        path: the YAML file.

    Returns:
        The template; ``reference_image`` is uint8 (H, W), dark ink on light paper, or None.

    Raises:
        TemplateError: missing or unparsable file, or an invalid value; the message names the
            file, the field and the fix.
    """
    path = Path(path)
    raw = _read_yaml(path)

    def fail(where: str, problem: str, fix: str = "") -> TemplateError:
        return TemplateError(f"{where}: {problem}", path=path, remedy=fix)

    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise fail(", ".join(sorted(unknown)), "unknown key", f"Use only {sorted(_TOP_KEYS)}")
    name, dpi, page, marks = _page_settings(raw, fail)
    reference = _reference(raw.get("reference_image"), path, page, fail)
    if not marks and reference is None:
        raise fail(
            "marks",
            "a form without registration marks needs a reference_image",
            "Set marks: true or give reference_image: <blank scan>",
        )
    fields = _fields(raw.get("fields"), page, (dpi, path.parent), marks, fail)
    title = raw.get("title", name)
    return Template(
        name=name.strip(),
        dpi=dpi,
        size=page,
        fields=tuple(fields),
        reference_image=reference,
        source=path,
        marks=marks,
        title=str(title),
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    """The template file as a mapping.

    Raises:
        TemplateError: the file is missing, unreadable, not YAML or not a mapping.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise TemplateError("template file not found", path=path) from e
    except (OSError, UnicodeDecodeError) as e:
        raise TemplateError(f"cannot read template ({e})", path=path) from e
    except yaml.YAMLError as e:
        raise TemplateError(f"not valid YAML ({e})", path=path) from e
    if not isinstance(raw, dict):
        raise TemplateError("must be a YAML mapping with name, dpi and fields", path=path)
    return raw


def _page_settings(raw: dict[str, Any], fail: Any) -> tuple[str, int, tuple[int, int], bool]:
    """The template's name, dpi, page (width, height) and whether it has registration marks.

    Raises:
        TemplateError: (from ``fail``) a missing or invalid value.
    """
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail("name", "missing or empty", "Add name: <form name>")
    dpi = raw.get("dpi", 300)
    if not isinstance(dpi, int) or not 72 <= dpi <= 1200:
        raise fail("dpi", f"{dpi!r} is not a whole number from 72 to 1200", "Use e.g. dpi: 300")
    default_size = [round(210 / 25.4 * dpi), round(297 / 25.4 * dpi)]  # A4: 2480x3508 at 300
    size = raw.get("size", default_size)
    if not _is_ints(size, 2) or min(size) < dpi:
        raise fail("size", f"{size!r} is not [width, height] in pixels", "Use e.g. [2480, 3508]")
    marks = raw.get("marks", True)
    if not isinstance(marks, bool):
        raise fail("marks", f"{marks!r} is not true or false")
    return name, dpi, (int(size[0]), int(size[1])), marks


def _fields(
    fields_raw: Any, page: tuple[int, int], at: tuple[int, Path], marks: bool, fail: Any
) -> list[FieldSpec]:
    """The template's fields, each valid, none overlapping another or a registration mark.

    ``at`` is the template's (dpi, folder): lists of allowed values are read beside it.

    Raises:
        TemplateError: (from ``fail``) a missing list, an invalid field or an overlap.
    """
    if not isinstance(fields_raw, list) or not fields_raw:
        raise fail("fields", "missing or empty", "List at least one field")
    dpi = at[0]
    keep_out = list(mark_boxes(page, dpi)) if marks else []
    fields: list[FieldSpec] = []
    for number, item in enumerate(fields_raw, start=1):
        spec = _field(item, number, page, at, fail)
        for other in fields:
            if _overlap(spec.box, other.box):
                raise fail(f"field {spec.name!r}", f"box overlaps field {other.name!r}")
        if any(_overlap(spec.box, _grow(mark, dpi // 10)) for mark in keep_out):
            raise fail(f"field {spec.name!r}", "box covers a registration mark", "Move it inward")
        fields.append(spec)
    return fields


def _field(
    item: Any, number: int, page: tuple[int, int], at: tuple[int, Path], fail: Any
) -> FieldSpec:
    dpi, folder = at
    where = f"field {number}"
    if not isinstance(item, dict):
        raise fail(where, "is not a mapping", "Give name, kind, charset and box")
    name = item.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise fail(where, f"name {name!r} is not an identifier", "Use letters, digits and _")
    where = f"field {name!r}"
    unknown = set(item) - _FIELD_KEYS
    if unknown:
        raise fail(where, f"unknown key {sorted(unknown)}", f"Use only {sorted(_FIELD_KEYS)}")
    kind = item.get("kind")
    if kind not in KINDS:
        raise fail(where, f"kind {kind!r} is not one of {KINDS}", "Use kind: comb or kind: box")
    if kind in MARK_KINDS:
        return mark_spec(item, name, page, dpi, fail)
    if "options" in item:
        raise fail(where, f"a {kind} field has no options", "Use kind: choice for tick boxes")
    charset = item.get("charset", "alnum")
    if not isinstance(charset, str) or not charset:
        raise fail(where, "charset is empty", f"Use one of {CHARSETS} or a literal string")
    box = item.get("box")
    x0, y0, x1, y1 = _field_box(box, page, dpi, where, fail)
    cells: tuple[Box, ...] = ()
    explicit = False
    max_chars = item.get("max_chars")
    if kind == "comb":
        cells, explicit = _comb_cells(item.get("cells"), (x0, y0, x1, y1), box, dpi, where, fail)
        max_chars = len(cells)
    elif max_chars is None:
        max_chars = max(1, (x1 - x0) // max(1, (y1 - y0) // 2))
    elif not isinstance(max_chars, int) or max_chars < 1:
        raise fail(where, f"max_chars {max_chars!r} is not a positive whole number")
    return FieldSpec(
        name=name,
        kind=kind,
        charset=charset,
        box=(x0, y0, x1, y1),
        cells=cells,
        max_chars=int(max_chars),
        validation=with_choices(
            _validation(item.get("validate"), where, fail),
            (item.get("validate") or {}).get("choices"),
            item.get("choices_file"),
            folder,
            where,
            fail,
        ),
        label=str(item.get("label", name.replace("_", " ").capitalize())),
        explicit_cells=explicit,
    )


def _field_box(box: Any, page: tuple[int, int], dpi: int, where: str, fail: Any) -> Box:
    """A field's box (x0, y0, x1, y1), inside the page and tall enough to write in.

    Raises:
        TemplateError: (from ``fail``) the box is malformed, outside the page or too low.
    """
    if not _is_ints(box, 4):
        raise fail(where, f"box {box!r} is not [x0, y0, x1, y1]", "Give four whole numbers")
    assert isinstance(box, list | tuple)
    x0, y0, x1, y1 = (int(v) for v in box)
    if not (0 <= x0 < x1 <= page[0] and 0 <= y0 < y1 <= page[1]):
        raise fail(where, f"box {box} is empty or outside the {page[0]}x{page[1]} page")
    if y1 - y0 < dpi // 6:
        raise fail(where, f"box is {y1 - y0} px high", f"Make it at least {dpi // 6} px (1/6 in)")
    return x0, y0, x1, y1


def _comb_cells(
    raw_cells: Any, box: Box, raw_box: Any, dpi: int, where: str, fail: Any
) -> tuple[tuple[Box, ...], bool]:
    """A comb's cells: ``cells: N`` splits the box evenly, a list of boxes gives them exactly.

    Returns:
        The cells, and whether they were given explicitly.

    Raises:
        TemplateError: (from ``fail``) malformed cells, a cell outside the box, or cells too
            narrow to write in.
    """
    x0, y0, x1, y1 = box
    explicit = False
    if isinstance(raw_cells, int) and not isinstance(raw_cells, bool) and raw_cells >= 1:
        edges = np.linspace(x0, x1, raw_cells + 1).round().astype(int)
        cells: tuple[Box, ...] = tuple(
            (int(a), y0, int(b), y1) for a, b in itertools.pairwise(edges)
        )
    elif isinstance(raw_cells, list) and raw_cells and all(_is_ints(c, 4) for c in raw_cells):
        cells = tuple(tuple(int(v) for v in c) for c in raw_cells)  # type: ignore[misc]
        explicit = True
        for cell in cells:
            if not (x0 <= cell[0] < cell[2] <= x1 and y0 <= cell[1] < cell[3] <= y1):
                raise fail(where, f"cell {list(cell)} is not inside the box {raw_box}")
    else:
        raise fail(where, f"cells {raw_cells!r} is not a count or a list of boxes", "Use cells: 8")
    narrow = min(c[2] - c[0] for c in cells)
    if narrow < dpi // 10:
        raise fail(where, f"cells are {narrow} px wide", "Use fewer cells or a wider box")
    return cells, explicit


def _validation(raw: Any, where: str, fail: Any) -> FieldValidation:
    if raw is None:
        return FieldValidation()
    if not isinstance(raw, dict) or set(raw) - _VALIDATE_KEYS:
        raise fail(where, f"validate {raw!r} is not a mapping of {sorted(_VALIDATE_KEYS)}")
    regex, date, luhn = raw.get("regex"), raw.get("date"), raw.get("luhn", False)
    if regex is not None:
        try:
            re.compile(regex)
        except (re.error, TypeError) as e:
            raise fail(where, f"validate.regex {regex!r} does not compile ({e})") from e
    if date is not None and (not isinstance(date, str) or "%" not in date):
        raise fail(where, f"validate.date {date!r} is not a strptime format", "Use e.g. %d%m%Y")
    if not isinstance(luhn, bool):
        raise fail(where, f"validate.luhn {luhn!r} is not true or false")
    return FieldValidation(regex=regex, date=date, luhn=luhn)


def _reference(raw: Any, path: Path, page: tuple[int, int], fail: Any) -> np.ndarray | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise fail("reference_image", f"{raw!r} is not a file name")
    # A template may only name an image in its own folder: no "../", absolute paths or links out.
    folder = path.parent.resolve()
    image_path = (folder / raw).resolve()
    if Path(raw).is_absolute() or not image_path.is_relative_to(folder):
        raise fail(
            "reference_image",
            f"{raw!r} is outside the template's folder {folder}",
            "Put the blank scan beside the template and give its file name only",
        )
    try:
        with Image.open(image_path) as image:
            gray = np.asarray(image.convert("L"), dtype=np.uint8)
    except (OSError, ValueError) as e:
        raise fail("reference_image", f"cannot read {image_path} ({e})", "Give a PNG") from e
    if (gray.shape[1], gray.shape[0]) != page:
        raise fail(
            "reference_image",
            f"is {gray.shape[1]}x{gray.shape[0]} but the page size is {page[0]}x{page[1]}",
            "Render or scan it at the template's dpi, or fix size",
        )
    return np.ascontiguousarray(gray)


def _is_ints(value: Any, count: int) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) == count
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    )


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _grow(box: Box, by: int) -> Box:
    return (box[0] - by, box[1] - by, box[2] + by, box[3] + by)
