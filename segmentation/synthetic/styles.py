"""Page styles for generated forms: how a page is printed (lines, cells, shade, marks) and written.

Our users' forms are drawn every which way; the generator draws each page in the house style
or a random one, so that segmentation is measured on more than the forms we print.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from segmentation.records import Template
from segmentation.render import CellStyle, FormStyle, render_blank_form


@dataclass(frozen=True, slots=True)
class PageStyle:
    """How one generated page is drawn and written.

    Attributes:
        form: how its boxes are printed (line thickness, cell style, shade).
        marks: False prints no registration marks (the page is then registered to its blank).
        writing: the characters' height as a share of the box's, drawn per field, or None for
            the house style (comb cells 55-78 %, box fields 50-72 %).
        spacing: gap between the characters of a box field, in character heights, drawn per
            character (negative: overlapping, so touching).
        cross_rate: share of characters pushed over a line (a frame, a tick, a divider).
        pen: how dark the ink is at a stroke's core (0: none, 1: black), drawn per page;
            ``LIGHT_PEN`` writes in pencil or a faint pen.
    """

    form: FormStyle = field(default_factory=FormStyle)
    marks: bool = True
    writing: tuple[float, float] | None = None
    spacing: tuple[float, float] = (0.1, 0.35)
    cross_rate: float = 0.06
    pen: tuple[float, float] = (0.75, 1.0)

    def as_record(self) -> dict:
        """The style as plain JSON-able values (for a page's ground truth)."""
        return {
            "thickness": self.form.thickness,
            "cells": self.form.cells,
            "shade": self.form.shade,
            "gap": self.form.gap,
            "marks": self.marks,
            "writing": list(self.writing) if self.writing else None,
            "spacing": list(self.spacing),
            "cross_rate": self.cross_rate,
            "pen": list(self.pen),
        }


HOUSE_STYLE = PageStyle()
LIGHT_PEN = (0.3, 0.5)
"""Pencil or a faint pen: strokes 128-179 gray levels at their core, lighter than the print."""
PENS: dict[str, tuple[float, float] | None] = {"usual": None, "light": LIGHT_PEN}
"""The pens forms are written with, by name (None: the page style's own)."""


def random_style(rng: np.random.Generator) -> PageStyle:
    """A page style drawn at random: the forms our users have, not the ones we print.

    Lines 1-8 px thick, ticks or full-height dividers or separate boxes, a light dropout
    shade now and then, a quarter of pages without registration marks, writing 40-80 % of
    the box's height, spaced normally, tightly or touching, and more strokes over the lines.
    """
    cells: CellStyle = ("ticks", "dividers", "boxes")[int(rng.integers(3))]
    spacing = [(0.1, 0.35), (-0.02, 0.12), (-0.15, 0.02)][int(rng.integers(3))]
    form = FormStyle(
        thickness=int(rng.integers(1, 9)),
        cells=cells,
        shade=0 if rng.random() < 0.7 else int(rng.integers(150, 211)),
        gap=int(rng.integers(8, 26)),
    )
    return PageStyle(
        form=form,
        marks=bool(rng.random() >= 0.25),
        writing=(0.4, 0.8),
        spacing=(float(spacing[0]), float(spacing[1])),
        cross_rate=0.15,
    )


def styled_template(template: Template, style: PageStyle) -> Template:
    """The template a user of a page drawn in ``style`` would have written.

    A form without registration marks is registered to its blank, which the user scans
    once; here the blank is drawn in the same style.
    """
    if style.marks or not template.marks:
        return template
    blank = render_blank_form(template, marks=False, style=style.form)
    return replace(template, marks=False, reference_image=blank)


def style_of(record: dict) -> PageStyle:
    """The page style a generated page's truth records (the house style when none)."""
    style = record.get("style")
    if not style:
        return HOUSE_STYLE
    form = FormStyle(style["thickness"], style["cells"], style["shade"], style["gap"])
    writing = tuple(style["writing"]) if style["writing"] else None
    pen = tuple(style.get("pen", HOUSE_STYLE.pen))
    return PageStyle(
        form, style["marks"], writing, tuple(style["spacing"]), style["cross_rate"], pen
    )
