"""Sheets of tick boxes to measure mark reading on: many boxes and groups a page, scanned."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from segmentation.records import FieldSpec, MarkOption, Template
from segmentation.render import render_blank_form
from segmentation.synthetic.forms import params_fit
from segmentation.synthetic.penmarks import write_marks
from segmentation.synthetic.scan import random_params, simulate_scan
from segmentation.synthetic.styles import random_style, styled_template

TITLES = ("MR", "MRS", "MS", "MISS", "DR")


def tick_sheet(rng: np.random.Generator, dpi: int = 300) -> Template:
    """An A4 form of tick boxes: 8 choice groups of 3-5 options and 48 lone marks.

    Box sides are drawn per sheet from 35-60 px at 300 dpi (3-5 mm), as forms print them.
    """
    width, height = round(8.27 * dpi), round(11.69 * dpi)
    side = int(rng.integers(35, 61)) * dpi // 300
    fields: list[FieldSpec] = []
    left, top, pitch = round(0.9 * dpi), round(1.2 * dpi), round(0.42 * dpi)
    for g in range(8):
        y = top + g * pitch
        options = tuple(
            MarkOption(value, (x, y, x + side, y + side))
            for value, x in zip(
                TITLES[: int(rng.integers(3, 6))], range(left, width, dpi), strict=False
            )
        )
        outer = (options[0].box[0], y, options[-1].box[2], y + side)
        fields.append(FieldSpec(f"group_{g}", "choice", "", outer, max_chars=1, options=options))
    for m in range(48):
        x = left + (m % 6) * round(1.1 * dpi)
        y = top + (8 + m // 6) * pitch
        box = (x, y, x + side, y + side)
        fields.append(
            FieldSpec(f"mark_{m}", "mark", "01", box, max_chars=1, options=(MarkOption("1", box),))
        )
    return Template("tick-sheet", dpi, (width, height), tuple(fields), None, Path("tick-sheet"))


def scanned_sheet(rng: np.random.Generator) -> tuple[Template, np.ndarray, list[dict], np.ndarray]:
    """A tick sheet in a random style, marked and scanned.

    Returns:
        (the template to segment it with, uint8 (H, W) scan (dark ink on light paper), the
        truth per field (``write_marks``), float64 (3, 3) template-to-scan matrix).
    """
    template = tick_sheet(rng)
    # Registration marks always: a sheet of small boxes is too sparse to register by features.
    style = replace(random_style(rng), marks=True)
    page = render_blank_form(template, marks=style.marks, style=style.form)
    truth = [write_marks(page, spec, rng, template.dpi) for spec in template.fields]
    params = random_params(rng, turns=True)
    while not params_fit(template, params):
        params = random_params(rng, turns=True)
    if params.binarise and (style.form.shade or style.form.thickness == 1):
        params = replace(params, binarise=False)  # as make_document: such forms are not faxed
    scan, matrix = simulate_scan(page, params, rng)
    return styled_template(template, style), scan, truth, matrix
