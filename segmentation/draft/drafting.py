"""Draft a template from a scan of a form: find its boxes, name them, write YAML and images."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml
from PIL import Image

from ocr_core.errors import InputFileError, OutputError, TemplateError
from segmentation.draft.align import mark_centres, onto_marks
from segmentation.draft.preview import draw_preview
from segmentation.draft.template import field_entries, merge_update, render_yaml
from segmentation.freeform import FoundPage, find_page_fields
from segmentation.loader import iter_pages, sniff_type, square_dpi
from segmentation.paper import flatten_background
from segmentation.records import Box
from segmentation.templates import mark_boxes
from segmentation.upright import guess_dpi


@dataclass(frozen=True, slots=True)
class Draft:
    """A drafted template and what was written.

    Attributes:
        found: the page as the detector saw it (upright image, matrix, fields, proposals).
        marks: True when the four registration marks were found.
        yaml_text: the template.
        lost: names of fields of the updated template that were not found again.
    """

    found: FoundPage
    marks: bool
    yaml_text: str
    lost: tuple[str, ...] = ()


def draft_page(page: np.ndarray, dpi: int, *, labels: bool = True) -> tuple[FoundPage, bool]:
    """Find a page's fields, read their labels and tell whether it carries our marks.

    Args:
        page: uint8 (H, W), dark ink on light paper, any quarter turn.
        dpi: its resolution.
        labels: False skips Tesseract (fields named ``field_NN``).

    Returns:
        (the fields found, whether our registration marks are printed). A page with marks
        is moved so that they lie where the template's marks are: its boxes are given in
        that frame.
    """
    found = find_page_fields(flatten_background(page), dpi, labels=labels)
    centres = mark_centres(found.upright, dpi)
    if len(centres) < 3:
        return found, False
    return onto_marks(found, centres), True


def draft_template(
    blank: Path,
    out: Path,
    *,
    page_number: int = 1,
    update: bool = False,
    labels: bool = True,
    name: str | None = None,
) -> Draft:
    """Draft ``out`` (YAML) from a blank, with the reference image and a preview beside it.

    Writes ``out``, ``<stem>.blank.png`` (the page upright, the template's reference image)
    and ``<stem>.preview.png``.

    Args:
        blank: a PNG, TIFF, JPEG or PDF of the form.
        out: the template to write.
        page_number: which page of ``blank`` (1-based).
        update: ``out`` exists; keep its name, title and its fields' names, labels, charsets,
            validators and max_chars wherever the same box is found again.
        labels: False skips Tesseract.
        name: the template's name (default: from ``out``'s file name).

    Raises:
        InputFileError: ``blank`` is unreadable or has no such page.
        TemplateError: ``out`` exists without ``update``, or ``update`` and it is unreadable.
        ConfigurationError: Tesseract is missing (``labels``).
        OutputError: the files cannot be written.
    """
    old = _old_template(out, update)
    page, dpi = _load_page(blank, page_number)
    found, marks = draft_page(page, dpi, labels=labels)
    fields = [f for f in found.fields if not (marks and _on_mark(f.box, found.upright, dpi))]
    if not fields:
        raise InputFileError(
            f"no field boxes found on page {page_number}",
            path=blank,
            remedy="Scan the form at 300 dpi in grey, upright, with its boxes' lines visible",
        )
    notes = [p.note for f, p in zip(found.fields, found.proposals, strict=True) if f in fields]
    entries = field_entries(fields, notes)
    lost: list[str] = []
    if old is not None:
        entries, lost = merge_update(old, entries)
    stem = out.name.removesuffix(".yaml").removesuffix(".yml")
    image_name = f"{stem}.blank.png"
    top = _top_keys(old or {}, name or stem, found, marks, image_name)
    header = [
        f"Drafted by `python -m segmentation.draft {blank.name}`: {len(entries)} fields.",
        f"Check {stem}.preview.png, then edit names, charsets and validators; a later",
        "`--update` keeps those edits. Boxes are [x0, y0, x1, y1] pixels on the line centres.",
    ]
    text = render_yaml(header, top, entries)
    _write(out, text, found, fields, image_name, f"{stem}.preview.png")
    return Draft(found, marks, text, tuple(lost))


def _top_keys(
    old: dict[str, Any], name: str, found: FoundPage, marks: bool, image: str
) -> dict[str, Any]:
    """The template's own keys: an updated template keeps its name and title."""
    height, width = found.upright.shape
    return {
        "name": old.get("name") or _slug(name),
        "title": old.get("title") or name.replace("-", " ").capitalize(),
        "dpi": found.dpi,
        "size": [width, height],
        "marks": marks,
        "reference_image": image,
    }


def _old_template(out: Path, update: bool) -> dict[str, Any] | None:
    """The template being updated, as data (None when drafting anew)."""
    if not update:
        if out.exists():
            raise TemplateError(
                "already exists", path=out, remedy="Use --update to keep its edits, or --force"
            )
        return None
    if not out.exists():
        return None
    try:
        raw = yaml.safe_load(out.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise TemplateError(f"cannot read it to update ({e})", path=out) from e
    if not isinstance(raw, dict):
        raise TemplateError("is not a template (a YAML mapping)", path=out)
    return raw


def _load_page(blank: Path, number: int) -> tuple[np.ndarray, int]:
    """Page ``number`` of the file and its dpi (a PDF is rendered at 300 dpi)."""
    is_pdf = sniff_type(blank) == "pdf"
    for k, page in enumerate(iter_pages(blank, dpi=300), start=1):
        if k == number:
            return page, 300 if is_pdf else _image_dpi(blank, page)
    raise InputFileError(f"has no page {number}", path=blank, remedy="Give --page N of its pages")


def _image_dpi(path: Path, page: np.ndarray) -> int:
    """The resolution an image records, else the one that makes it A4 or US letter."""
    try:
        with Image.open(path) as image:
            recorded = image.info.get("dpi")
    except OSError:
        recorded = None
    if recorded:
        # Across, or where the two differ, the finer: the loader stretched the page to it.
        across = round(square_dpi(recorded) or float(recorded[0]))
        if 100 <= across <= 1200:
            return across
    return guess_dpi((page.shape[1], page.shape[0]))


def _on_mark(box: Box, page: np.ndarray, dpi: int) -> bool:
    size = (page.shape[1], page.shape[0])
    return any(
        box[0] < m[2] + dpi // 10
        and m[0] - dpi // 10 < box[2]
        and box[1] < m[3] + dpi // 10
        and m[1] - dpi // 10 < box[3]
        for m in mark_boxes(size, dpi)
    )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "my-form"


def _write(out: Path, text: str, found: FoundPage, fields: list, image: str, preview: str) -> None:
    folder = out.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(folder / image), found.upright):
            raise OSError("the PNG encoder failed")
        cv2.imwrite(str(folder / preview), draw_preview(found.upright, fields, found.dpi))
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
    except OSError as e:
        raise OutputError(f"cannot write the draft ({e})", path=out) from e
