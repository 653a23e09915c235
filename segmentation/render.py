"""Render a template as a printable blank form: a grayscale image or a vector PDF."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from ocr_core.errors import OutputError
from segmentation.records import Box, FieldSpec, Template
from segmentation.templates import field_lines, line_width, mark_boxes

_FONT = cv2.FONT_HERSHEY_SIMPLEX

CellStyle = Literal["ticks", "dividers", "boxes"]


@dataclass(frozen=True, slots=True)
class FormStyle:
    """How a form's boxes are printed, when not as this project prints them by default.

    Our users' forms are drawn every which way; the generator draws a template in many styles
    so that segmentation is measured on more than one.

    Attributes:
        thickness: printed line thickness in pixels, or 0 for the default (``line_width``).
        cells: how equal comb cells are drawn: ``ticks`` rising from the bottom line,
            full-height ``dividers``, or separate ``boxes`` with a gap between them.
        shade: gray level of the printed lines (0 black; 150-210 a light "dropout" colour).
        gap: pixels between separate boxes (``boxes`` style).
    """

    thickness: int = 0
    cells: CellStyle = "ticks"
    shade: int = 0
    gap: int = 0


def render_blank_form(
    template: Template,
    *,
    labels: bool = True,
    marks: bool = True,
    style: FormStyle | None = None,
) -> np.ndarray:
    """Draw the blank form: registration marks, box outlines, cell ticks and labels.

    Args:
        template: the form.
        labels: False leaves out the title and field labels (registration scores lines only).
        marks: False leaves out the registration marks.
        style: how the boxes are drawn (default: thin black frames, ticks between comb cells).

    Returns:
        uint8 (height, width) at the template's dpi, black (0) ink on white (255) paper.
    """
    width, height = template.size
    page = np.full((height, width), 255, np.uint8)
    style = style or FormStyle()
    thickness = style.thickness or line_width(template.dpi)
    if marks and template.marks:
        for x0, y0, x1, y1 in mark_boxes(template.size, template.dpi):
            page[y0:y1, x0:x1] = 0
    half = thickness // 2
    for spec in template.fields:
        for x0, y0, x1, y1 in styled_lines(spec, style):
            page[y0 - half : y1 - half + thickness, x0 - half : x1 - half + thickness] = style.shade
    if labels:
        scale = template.dpi / 300
        if template.title:
            _text(
                page,
                template.title,
                (round(0.9 * template.dpi), round(0.6 * template.dpi)),
                2.0 * scale,
            )
        for spec in template.fields:
            for text, origin in label_places(spec, template.dpi):
                _text(page, text, origin, 1.0 * scale)
    return page


def label_places(spec: FieldSpec, dpi: int) -> list[tuple[str, tuple[int, int]]]:
    """Where a field's printed texts go: (text, baseline origin in pixels) each.

    Writing fields have their label above the box; a tick box its label to its right; a
    choice its label above and each option's value to the right of its box.
    """
    scale = dpi / 300
    gap = round(12 * scale)
    if spec.kind == "mark":
        _x0, y0, x1, y1 = spec.box
        return [(spec.label, (x1 + gap, (y0 + y1) // 2 + round(10 * scale)))]
    above = (spec.box[0], spec.box[1] - round(14 * scale))
    if spec.kind != "choice":
        return [(_label(spec.label, spec.charset), above)]
    texts = [(spec.label, above)]
    for option in spec.options:
        _x0, y0, x1, y1 = option.box
        texts.append((option.value, (x1 + gap, (y0 + y1) // 2 + round(10 * scale))))
    return texts


def styled_lines(spec: FieldSpec, style: FormStyle) -> list[Box]:
    """The printed line centres of a field drawn in ``style`` (see ``field_lines``)."""
    if spec.kind != "comb" or spec.explicit_cells or style.cells == "ticks":
        return field_lines(spec)
    _x0, y0, _x1, y1 = spec.box
    if style.cells == "dividers":
        frame = field_lines(replace(spec, kind="box"))
        return frame + [(cell[0], y0, cell[0], y1) for cell in spec.cells[1:]]
    lines: list[Box] = []
    half = style.gap // 2
    for k, (cx0, cy0, cx1, cy1) in enumerate(spec.cells):
        left = cx0 + (half if k > 0 else 0)
        right = cx1 - (half if k < len(spec.cells) - 1 else 0)
        lines += [(left, cy0, right, cy0), (left, cy1, right, cy1)]
        lines += [(left, cy0, left, cy1), (right, cy0, right, cy1)]
    return lines


def _label(label: str, charset: str) -> str:
    hint = charset if charset in ("digits", "upper", "lower", "letters", "alnum") else "chars"
    return f"{label} ({hint})"


def _text(page: np.ndarray, text: str, origin: tuple[int, int], scale: float) -> None:
    cv2.putText(page, text, origin, _FONT, scale, 0, max(1, round(2 * scale)), cv2.LINE_AA)


def write_blank_pdf(template: Template, path: Path) -> Path:
    """Write the blank form as a one-page vector PDF (crisp when printed at any size).

    Lines, marks and cell boxes sit exactly where ``render_blank_form`` draws them; the labels
    use Helvetica. Print at 100% ("actual size"), not "fit to page".

    Args:
        template: the form.
        path: the PDF to write.

    Returns:
        ``path``.

    Raises:
        OutputError: the file cannot be written.
    """
    width, height = template.size
    pt = 72.0 / template.dpi  # points per pixel
    ops: list[str] = ["0 g 0 G"]

    def y(value: float) -> float:
        return (height - value) * pt

    if template.marks:
        for x0, y0, x1, y1 in mark_boxes(template.size, template.dpi):
            ops.append(f"{x0 * pt:.2f} {y(y1):.2f} {(x1 - x0) * pt:.2f} {(y1 - y0) * pt:.2f} re f")
    ops.append(f"{line_width(template.dpi) * pt:.2f} w 2 J")
    for spec in template.fields:
        for x0, y0, x1, y1 in field_lines(spec):
            ops.append(f"{x0 * pt:.2f} {y(y0):.2f} m {x1 * pt:.2f} {y(y1):.2f} l S")
    size = 10.0  # points: the raster labels are about this size too
    if template.title:
        ops.append(_pdf_text(template.title, 0.9 * template.dpi * pt, y(0.6 * template.dpi), 20))
    for spec in template.fields:
        for text, (tx, ty) in label_places(spec, template.dpi):
            ops.append(_pdf_text(text, tx * pt, y(ty), size))
    content = "\n".join(ops).encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] " % (width * pt, height * pt)
        + b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    try:
        Path(path).write_bytes(pdf_bytes(objects))
    except OSError as e:
        raise OutputError(f"cannot write the blank form ({e.strerror})", path=path) from e
    return Path(path)


def pdf_bytes(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    """Assemble a PDF file from its objects, with a correct cross-reference table.

    Args:
        objects: object ``i`` (1-based) is ``objects[i - 1]``; object 1 is the document's /Root.
        trailer_extra: more trailer entries (e.g. ``b"/Encrypt 4 0 R "``).

    Returns:
        The whole file.
    """
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R " % (len(objects) + 1) + trailer_extra + b">>\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _pdf_text(text: str, x: float, y: float, size: float) -> str:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return f"BT /F1 {size:.1f} Tf {x:.2f} {y:.2f} Td ({escaped}) Tj ET"
