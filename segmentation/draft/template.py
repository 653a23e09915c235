"""A drafted template as YAML text, and ``--update``: new boxes, the user's edits kept."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from segmentation.records import Box, FieldSpec, box_iou

KEPT_KEYS = ("name", "label", "charset", "validate", "max_chars")
"""What ``--update`` keeps of a field the user may have edited."""


def field_entries(fields: Sequence[FieldSpec], notes: Sequence[str]) -> list[dict[str, Any]]:
    """One template entry per field (the schema's keys), with its YAML comment under ``#``."""
    entries = []
    for field, note in zip(fields, notes, strict=True):
        entry: dict[str, Any] = {"name": field.name}
        if field.label:
            entry["label"] = field.label
        entry["kind"] = field.kind
        if field.kind == "comb":
            entry["cells"] = _cells(field)
        if field.kind != "mark":
            entry["charset"] = field.charset
        if field.kind == "box":
            entry["max_chars"] = field.max_chars
        entry["box"] = list(field.box)
        validate = _validate(field)
        if validate:
            entry["validate"] = validate
        entry["#"] = note
        entries.append(entry)
    return entries


def _cells(field: FieldSpec) -> int | list[list[int]]:
    """``cells: N`` for equal cells (within 2 px), else the list of cell boxes."""
    x0, _, x1, _ = field.box
    edges = np.linspace(x0, x1, len(field.cells) + 1).round().astype(int)
    if all(abs(c[0] - e) <= 2 for c, e in zip(field.cells, edges, strict=False)):
        return len(field.cells)
    return [list(c) for c in field.cells]


def _validate(field: FieldSpec) -> dict[str, Any]:
    v = field.validation
    out: dict[str, Any] = {}
    if v.regex:
        out["regex"] = v.regex
    if v.date:
        out["date"] = v.date
    if v.luhn:
        out["luhn"] = True
    return out


def render_yaml(header: Sequence[str], top: dict[str, Any], entries: list[dict[str, Any]]) -> str:
    """The template as YAML text: comment lines, the top keys, then one block per field."""
    lines = [f"# {line}" if line else "#" for line in header]
    for key, value in top.items():
        lines.append(f"{key}: {_scalar(value)}")
    lines.append("fields:")
    for entry in entries:
        note = entry.get("#", "")
        first = True
        for key, value in entry.items():
            if key == "#":
                continue
            text = f"{'  - ' if first else '    '}{key}: {_scalar(value)}"
            commented = "charset" if "charset" in entry else "name"
            if note and key == commented:
                text += f"  # {note}"
            lines.append(text)
            first = False
    return "\n".join(lines) + "\n"


def _scalar(value: Any) -> str:
    """A value in YAML flow style (JSON is valid YAML; plain words stay unquoted)."""
    plain = isinstance(value, str) and value[:1].isalpha()
    word = plain and str(value).replace("_", "").replace("-", "").isalnum()
    if word and str(value).lower() not in ("true", "false", "yes", "no", "on", "off", "null"):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_scalar(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def merge_update(old: dict[str, Any], entries: list[dict[str, Any]]) -> tuple[list[dict], list]:
    """The new entries with the user's edits of each matching old field kept.

    New boxes are matched to the old ones after the shift that lines up the most of them
    (the blank may have been scanned again); a match is the same kind with boxes overlapping
    by half. Kept: KEPT_KEYS, and the old note is dropped.

    Args:
        old: the existing template, as loaded from its YAML.
        entries: the fields drafted now (``field_entries``).

    Returns:
        (the merged entries, the names of old fields no longer found).
    """
    old_fields = [f for f in old.get("fields") or [] if isinstance(f, dict) and _box(f)]
    shift = _best_shift([_box(f) for f in old_fields], [_box(e) for e in entries])
    used: set[int] = set()
    merged = []
    for entry in entries:
        moved = _moved(_box(entry), shift)
        best, score = None, 0.5
        for i, field in enumerate(old_fields):
            overlap = box_iou(moved, _box(field))
            if i not in used and field.get("kind") == entry["kind"] and overlap > score:
                best, score = i, overlap
        if best is not None:
            used.add(best)
            entry = dict(entry)
            for key in KEPT_KEYS:
                if key in old_fields[best]:
                    entry[key] = old_fields[best][key]
                elif key in ("label", "validate"):
                    entry.pop(key, None)  # the user deleted it
            entry["#"] = ""
        merged.append(entry)
    lost = [str(f.get("name")) for i, f in enumerate(old_fields) if i not in used]
    return _unique_names(merged), lost


def _unique_names(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drafted names that clash with a kept one get ``_2``, ``_3``..."""
    seen: set[str] = set()
    for entry in entries:
        name, k = entry["name"], 2
        while entry["name"] in seen:
            entry["name"] = f"{name}_{k}"
            k += 1
        seen.add(entry["name"])
    return entries


def _box(field: dict[str, Any]) -> Box:
    box = field.get("box")
    if isinstance(box, list) and len(box) == 4 and all(isinstance(v, int) for v in box):
        return (box[0], box[1], box[2], box[3])
    return (0, 0, 0, 0)


def _moved(box: Box, shift: tuple[int, int]) -> Box:
    dx, dy = shift
    return (box[0] - dx, box[1] - dy, box[2] - dx, box[3] - dy)


def _best_shift(old: list[Box], new: list[Box]) -> tuple[int, int]:
    """The (dx, dy) from old to new boxes under which the most of them overlap by half."""
    candidates = {
        (n[0] - o[0], n[1] - o[1])
        for o in old
        for n in new
        if abs((n[2] - n[0]) - (o[2] - o[0])) <= 4 and abs((n[3] - n[1]) - (o[3] - o[1])) <= 4
    }
    candidates.add((0, 0))
    best, best_count = (0, 0), -1
    for shift in sorted(candidates, key=lambda s: abs(s[0]) + abs(s[1])):
        count = sum(any(box_iou(_moved(n, shift), o) > 0.5 for o in old) for n in new)
        if count > best_count:
            best, best_count = shift, count
    return best
