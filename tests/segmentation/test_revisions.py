"""Revisions of one form: a page goes to the revision it was printed as, whichever is listed first.

A revision that adds a field prints every line of the old one: on its pages the old revision
finds all of its own lines too, and both score 1. The new revision finds more of the page.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from segmentation import Template, segment_page
from segmentation import coverage as coverage_module
from segmentation.coverage import printed
from segmentation.paper import flatten_background
from segmentation.register import register_page
from segmentation.render import FormStyle, render_blank_form
from segmentation.synthetic import GlyphPool
from segmentation.synthetic.scan import ScanParams
from tests.segmentation.scans import scanned
from tests.segmentation.test_register import considered, field_corner_error, fits_counted

# A one-line box under the last field (13% more printed line), and a short one (2.5% more).
ADDED = {"line": (300, 2520, 1500, 2650), "short": (300, 2520, 450, 2630)}


def revisions(templates: dict[str, Template], added: str, marks: bool) -> tuple[Template, Template]:
    """The loan application form, and a revision of it with one more box field."""
    old = templates["loan-application"]
    branch = next(f for f in old.fields if f.name == "branch")
    new = replace(
        old,
        name="loan-application-v2",
        fields=(*old.fields, replace(branch, name="reference", box=ADDED[added])),
    )
    if not marks:  # printed without marks: found by the features of each blank
        old, new = (
            replace(t, marks=False, reference_image=render_blank_form(t, marks=False))
            for t in (old, new)
        )
    return old, new


@pytest.mark.parametrize("marks", [True, False], ids=["marks", "no-marks"])
@pytest.mark.parametrize("added", list(ADDED))
def test_a_page_goes_to_the_revision_it_was_printed_as_in_either_order(
    templates: dict[str, Template], drawn_pool: GlyphPool, added: str, marks: bool
) -> None:
    old, new = revisions(templates, added, marks)
    assert printed(new) > printed(old)
    for own, seed in ((old, 1), (new, 2)):
        scan, _ = scanned(own, drawn_pool, ScanParams(angle=0.6, shift=(-15.0, 10.0)), seed)
        page = flatten_background(scan)
        for order in ([old, new], [new, old]):
            registration, reason, _ = register_page(page, order)
            assert registration is not None, reason
            assert registration.template.name == own.name, [t.name for t in order]
            assert registration.score == 1.0


def test_the_field_a_revision_adds_is_read(
    templates: dict[str, Template], drawn_pool: GlyphPool
) -> None:
    # The old revision listed first used to win the tie: the page was read without its new
    # field, and nothing said so.
    old, new = revisions(templates, "line", marks=True)
    scan, truth = scanned(new, drawn_pool, ScanParams(angle=-0.8, shift=(20.0, -10.0)), 3)
    result = segment_page(scan, [old, new])
    assert result.status == "ok" and result.template == new.name
    reference = next(f for f in result.fields if f.name == "reference")
    written = next(f for f in truth["fields"] if f["name"] == "reference")
    assert written["value"] and len(reference.chars) == len(written["value"])


def test_a_twin_that_prints_no_more_is_not_fitted_after_a_perfect_fit(
    templates: dict[str, Template], drawn_pool: GlyphPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = revisions(templates, "line", marks=True)
    twin = replace(new, name="loan-application-v2-copy")
    scan, _ = scanned(new, drawn_pool, ScanParams(angle=0.4, shift=(10.0, 10.0)), 4)
    page = flatten_background(scan)
    fitted = considered(monkeypatch)
    registration, _, _ = register_page(page, [old, new, twin])
    assert registration is not None and registration.template.name == new.name
    # The old revision could be beaten (the new prints more); once the new one found every
    # line, its twin could not: it is not fitted.
    assert "loan-application" in fitted and new.name in fitted and twin.name not in fitted


def test_a_form_printed_with_thick_lines_prints_as_much_line_as_with_thin_ones(
    templates: dict[str, Template],
) -> None:
    # Twins in two styles must not differ by how much line they print (a thick frame would
    # otherwise "find more" of every page); only a form with more lines prints more.
    form = templates["loan-application"]
    thin, thick = (
        replace(
            form,
            marks=False,
            reference_image=render_blank_form(
                form, labels=False, marks=False, style=FormStyle(thickness=px)
            ),
        )
        for px in (2, 8)
    )
    assert abs(printed(thick) / printed(thin) - 1) < 0.05
    # Counted by area (the score's measure), the thick form has far more.
    assert coverage_module._structure(thick).sum() > 1.4 * coverage_module._structure(thin).sum()


def test_after_a_perfect_fit_a_revision_is_scored_under_it_without_its_own_fit(
    templates: dict[str, Template], drawn_pool: GlyphPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A form of the page's size that could beat a fit finding every line of its form can do
    # so only where that form lies: no feature matching (about 40 ms a form) is spent on it.
    old, new = revisions(templates, "line", marks=False)
    scan, truth = scanned(new, drawn_pool, ScanParams(angle=0.5, shift=(-20.0, 15.0)), 5)
    page = flatten_background(scan)
    fits = fits_counted(monkeypatch)
    registration, reason, _ = register_page(page, [old, new])
    assert registration is not None and registration.template.name == new.name, reason
    assert fits == [(old.name, True), (old.name, False)]
    assert field_corner_error(new, registration.homography, truth) < 3.0
