"""Registration: mark finding on a shrunk page, marks cut by the page edge, turned pages."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from segmentation import Template, segment_page
from segmentation import features as features_module
from segmentation import paper as paper_module
from segmentation import register as register_module
from segmentation.marks import find_marks, place_cut_mark
from segmentation.paper import faint_level, flatten_background, ink_threshold
from segmentation.register import FEATURE_MIN_SCORE, register_page
from segmentation.render import FormStyle, render_blank_form
from segmentation.synthetic import GlyphPool, PageStyle, fill_form, scan_form, styled_template
from segmentation.synthetic.scan import ScanParams
from segmentation.templates import mark_boxes
from tests.segmentation.scans import scanned

# Shifts and scales that push marks over the page edge (from benchmark pages that used to
# need the feature-matching fallback): 3 marks cut, upright; 1 whole and 1 cut, upside down;
# 1 whole and 3 cut, sideways.
CUT_MARKS = [
    ScanParams(angle=-0.13, scale=1.038, shift=(-89.1, -101.3), blur=0.86, noise=1.3),
    ScanParams(angle=2.44, scale=1.049, shift=(110.4, -148.0), quarter_turns=2, noise=4.5),
    ScanParams(angle=-0.9, scale=1.03, shift=(104.2, -104.1), quarter_turns=3, noise=7.9),
    ScanParams(angle=-1.0, scale=1.044, shift=(-96.5, -89.7), blur=0.75, binarise=True),
]
TURNED = [
    ScanParams(angle=3.0, quarter_turns=1, shift=(60.0, -40.0)),
    ScanParams(angle=-2.0, quarter_turns=2, noise=5, jpeg_quality=60),
    ScanParams(angle=4.0, quarter_turns=3, binarise=True, blur=0.8),
]


def field_corner_error(template: Template, found: np.ndarray, truth: dict) -> float:
    """Largest distance (page pixels) between field corners mapped by two homographies."""
    corners = np.array(
        [[[x, y] for f in template.fields for x, y in ((f.box[0], f.box[1]), f.box[2:])]],
        np.float64,
    )
    expected = cv2.perspectiveTransform(corners, np.array(truth["transform"]).reshape(3, 3))
    return float(np.linalg.norm(cv2.perspectiveTransform(corners, found) - expected, axis=2).max())


def no_features(*_args: object) -> None:
    raise AssertionError("feature matching should not be needed")


@pytest.mark.parametrize("params", CUT_MARKS)
def test_marks_cut_by_the_page_edge_still_register_exactly(
    templates: dict[str, Template],
    drawn_pool: GlyphPool,
    params: ScanParams,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    template = templates["change-of-address"]
    scan, truth = scanned(template, drawn_pool, params)
    monkeypatch.setattr(features_module, "orb", no_features)
    result = segment_page(scan, list(templates.values()))
    assert result.status == "ok" and result.template == template.name, result.reason
    assert result.score > 0.9
    assert field_corner_error(template, np.array(result.transform).reshape(3, 3), truth) < 2.0


@pytest.mark.parametrize("params", TURNED)
def test_turned_pages_register_the_right_way_up(
    templates: dict[str, Template], drawn_pool: GlyphPool, params: ScanParams
) -> None:
    template = templates["loan-application"]
    scan, truth = scanned(template, drawn_pool, params)
    page = flatten_background(scan)
    registration, reason, _ = register_page(page, list(templates.values()))
    assert registration is not None, reason
    assert registration.template.name == template.name
    # A page read the wrong way round would put its fields half a page away.
    assert field_corner_error(template, registration.homography, truth) < 2.0
    # A right fit finds all the printed lines, whichever way up the page was scanned.
    assert registration.score > 0.99


@pytest.mark.parametrize("params", [*CUT_MARKS[:2], *TURNED])
def test_marks_found_on_the_shrunk_page_are_those_of_the_full_page(
    templates: dict[str, Template], drawn_pool: GlyphPool, params: ScanParams
) -> None:
    template = templates["loan-application"]
    scan, _ = scanned(template, drawn_pool, params)
    page = flatten_background(scan)
    ink = (page < ink_threshold(page)).astype(np.uint8)
    height, width = ink.shape
    shrunk = cv2.resize(ink * 255, (width // 4, height // 4), interpolation=cv2.INTER_AREA)
    x0, _, x1, _ = mark_boxes(template.size, template.dpi)[0]
    side = (x1 - x0) * max(height, width) / max(template.size)
    found = find_marks(ink, shrunk, 4, side)
    # What labelling the whole page finds: solid squares about a mark's size, off the edge.
    count, _, stats, centroids = cv2.connectedComponentsWithStats(ink, connectivity=8)
    x, y, w, h, area = (stats[:, i] for i in range(5))
    whole = (
        (w > 0.6 * side)
        & (w < 1.6 * side)
        & (h > 0.6 * side)
        & (h < 1.6 * side)
        & (area > 0.72 * w * h)
        & (area > 0.4 * side * side)
        & (np.arange(count) > 0)
        & (x > 0)
        & (y > 0)
        & (x + w < width)
        & (y + h < height)
    )
    expected = sorted(map(tuple, centroids[whole].round(6)))
    assert sorted(map(tuple, found.whole.round(6))) == expected
    assert len(expected) >= 1


@pytest.mark.parametrize("grow", [0.0, 1.5])
@pytest.mark.parametrize("angle", [0.0, 4.0, -3.0])
@pytest.mark.parametrize("depth", [15, 30, 50])
def test_a_cut_mark_is_placed_from_its_visible_part(angle: float, depth: int, grow: float) -> None:
    # A 60 px mark (printed; 60 + 2 * grow px as thresholded) whose centre lies 30 - depth px
    # above the page's top edge.
    mark = (1000, 1000, 1060, 1060)
    centre = np.array([400.0, depth - 30.0])
    turn = cv2.getRotationMatrix2D((1029.5, 1029.5), angle, 1.0)
    homography = np.vstack([turn, [0.0, 0.0, 1.0]])
    homography[:2, 2] += centre - (turn[:, :2] @ [1029.5, 1029.5] + turn[:, 2])
    low, high = 999.5 - grow, 1059.5 + grow
    corners = np.array([[[low, low], [high, low], [high, high], [low, high]]])
    outline = cv2.perspectiveTransform(corners, homography)[0]
    # The pixels of a 800 x 300 page whose centres lie inside the outline (clockwise).
    ys, xs = np.mgrid[0:300, 0:800]
    inside = np.ones(xs.shape, bool)
    for (ax, ay), (bx, by) in zip(outline, np.roll(outline, -1, axis=0), strict=True):
        inside &= (bx - ax) * (ys - ay) - (by - ay) * (xs - ax) >= 0
    seen = np.array([xs[inside].mean(), ys[inside].mean()])
    guess = centre + np.array([3.0, -4.0])
    placed = place_cut_mark(seen, guess, mark, homography, (800, 300), grow)
    assert placed is not None and np.abs(placed - centre).max() < 0.6


def test_uneven_lighting_is_evened_out_on_pages_of_any_size() -> None:
    rng = np.random.default_rng(3)
    height, width = 1003, 701  # not whole cells of 8: the edges must be handled
    ramp = np.linspace(1.0, 0.6, width, dtype=np.float32)[None, :]
    page = np.clip(235 * ramp + rng.normal(0, 3, (height, width)), 0, 255).astype(np.uint8)
    page[400:404, 50:650] = 30  # a printed line
    flat = flatten_background(page)
    assert flat.shape == page.shape and flat.dtype == np.uint8
    paper = flat[100:300, :].astype(np.float32)
    assert np.percentile(paper, 50) > 200 and np.ptp(paper.mean(axis=0)[20:-20]) < 20
    assert flat[400:404, 100:600].max() < 80  # the line stays ink


def test_a_form_printed_without_marks_is_matched_by_its_features_not_by_a_pages_marks(
    templates: dict[str, Template], drawn_pool: GlyphPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every form puts its marks in the same corners, so a page's marks fit a form printed
    # without them as well as they fit the page's own form: only the form's features may say.
    template = templates["change-of-address"]
    scan, truth = scanned(template, drawn_pool, ScanParams(angle=1.0, shift=(30.0, -20.0)))
    page = flatten_background(scan)
    blank = render_blank_form(template, marks=False)
    unmarked = replace(template, name="unmarked", marks=False, reference_image=blank)
    registration, reason, _ = register_page(page, [unmarked])
    assert registration is not None and registration.template.name == "unmarked", reason
    assert field_corner_error(template, registration.homography, truth) < 3.0
    monkeypatch.setattr(features_module, "orb", no_features)
    with pytest.raises(AssertionError, match="feature matching"):
        register_page(page, [unmarked])


def unmarked_forms(templates: dict[str, Template]) -> list[Template]:
    """The shipped forms as printed without marks, each with its blank as reference."""
    return [
        replace(t, marks=False, reference_image=render_blank_form(t, marks=False))
        for t in templates.values()
    ]


def fits_counted(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Each fit registration makes by features, as it makes it: (form name, quick or full)."""
    fits: list[tuple[str, bool]] = []
    fit = features_module.fit

    def counted(page_features: tuple, template: Template, quick: bool = False) -> np.ndarray | None:
        fits.append((template.name, quick))
        return fit(page_features, template, quick) if quick else fit(page_features, template)

    monkeypatch.setattr(features_module, "fit", counted)
    return fits


def considered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The form of each fit registration scores (``_Search.consider``), as it scores it."""
    fitted: list[str] = []
    consider = register_module._Search.consider

    def counted(search: object, template: Template, *args: object) -> None:
        fitted.append(template.name)
        consider(search, template, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(register_module._Search, "consider", counted)
    return fitted


def test_among_forms_without_marks_only_the_likely_ones_are_fitted_in_full(
    templates: dict[str, Template], drawn_pool: GlyphPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    forms = unmarked_forms(templates)
    own = next(t for t in forms if t.name == "change-of-address")
    scan, truth = scanned(own, drawn_pool, ScanParams(angle=-1.5, shift=(-40.0, 25.0)))
    page = flatten_background(scan)
    page_features = features_module.orb(page, features_module.PAGE_FEATURES)
    alone = features_module.fit(page_features, own)
    fits = fits_counted(monkeypatch)
    registration, reason, _ = register_page(page, forms)
    assert registration is not None and registration.template.name == own.name, reason
    # The quick fits left the other forms out, and the fit kept is the full fit's.
    assert [name for name, quick in fits if not quick] == [own.name]
    assert alone is not None and np.allclose(registration.homography, alone)
    assert field_corner_error(own, registration.homography, truth) < 3.0


def test_full_fits_stop_at_one_that_finds_every_line_of_its_form(
    templates: dict[str, Template], drawn_pool: GlyphPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One form in two styles, or saved twice under two names: both pass the quick stage. The
    # first full fit finds every line of its form, so fitting the twin could change nothing.
    forms = unmarked_forms(templates)
    own = next(t for t in forms if t.name == "change-of-address")
    twin = replace(own, name="change-of-address-copy")
    scan, truth = scanned(own, drawn_pool, ScanParams(angle=-0.7, shift=(25.0, 15.0)))
    page = flatten_background(scan)
    monkeypatch.setattr(register_module, "PERFECT", 2.0)  # no score reaches it: every fit
    every, _, _ = register_page(page, [own, twin, *forms])
    fits = fits_counted(monkeypatch)
    monkeypatch.setattr(register_module, "PERFECT", 1.0)
    registration, reason, _ = register_page(page, [own, twin, *forms])
    assert registration is not None and registration.template.name == own.name, reason
    assert registration.score == 1.0
    # Its quick fit too found every line: the twin is not even fitted quickly, nor is a form
    # that prints less. The NIST form prints more, and might have found more lines: it is
    # fitted quickly, and left out there.
    assert fits == [(own.name, True), (own.name, False), ("nist-hsf", True)]
    assert every is not None and every.template.name == own.name
    assert np.array_equal(registration.homography, every.homography)
    assert field_corner_error(own, registration.homography, truth) < 3.0


def test_fits_by_marks_stop_at_one_that_finds_every_line_of_its_form(
    templates: dict[str, Template], drawn_pool: GlyphPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = templates["loan-application"]
    twin = replace(own, name="loan-application-copy")
    scan, _ = scanned(own, drawn_pool, ScanParams(angle=0.6, shift=(-15.0, 10.0)))
    page = flatten_background(scan)
    fitted = considered(monkeypatch)
    registration, reason, _ = register_page(page, [own, twin])
    assert registration is not None and registration.template.name == own.name, reason
    assert registration.score == 1.0
    assert set(fitted) == {own.name}


def test_the_likely_forms_are_fitted_in_full_best_quick_score_first(
    templates: dict[str, Template],
) -> None:
    a, b, c = list(templates.values())[:3]
    quick = [0.95, 0.99, 0.99 - 2 * features_module.QUICK_MARGIN]  # c: out of the margin
    assert register_module._within_margin([a, b, c], quick, max(quick)) == [b, a]


def test_a_single_form_is_fitted_in_full_without_a_quick_fit(
    templates: dict[str, Template], drawn_pool: GlyphPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = unmarked_forms(templates)[0]
    scan, truth = scanned(own, drawn_pool, ScanParams(angle=0.8))
    fits = fits_counted(monkeypatch)
    registration, reason, _ = register_page(flatten_background(scan), [own])
    assert registration is not None and registration.template.name == own.name, reason
    assert fits == [(own.name, False)]
    assert field_corner_error(own, registration.homography, truth) < 3.0


def test_when_no_quick_fit_could_pass_every_form_is_fitted_in_full(
    templates: dict[str, Template], drawn_pool: GlyphPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The quick fit of the page's own form fails, and another form's quick fit, a poor one
    # (the own form's fit, which puts the other form's lines partly on ink), scores best: the
    # quick stage must not be what refuses the page.
    forms = unmarked_forms(templates)
    own = next(t for t in forms if t.name == "change-of-address")
    other = next(t for t in forms if t.name == "loan-application")
    scan, truth = scanned(own, drawn_pool, ScanParams(angle=1.0, shift=(20.0, -30.0)))
    page = flatten_background(scan)
    borrowed = features_module.fit(features_module.orb(page, features_module.PAGE_FEATURES), own)
    fit = features_module.fit

    def failing(page_features: tuple, template: Template, quick: bool = False) -> np.ndarray | None:
        if not quick:
            return fit(page_features, template)
        return borrowed if template.name == other.name else None

    monkeypatch.setattr(features_module, "fit", failing)
    registration, reason, _ = register_page(page, forms)
    assert registration is not None and registration.template.name == own.name, reason
    assert field_corner_error(own, registration.homography, truth) < 3.0


def test_a_hairline_dropout_frame_on_shaded_paper_is_found(
    templates: dict[str, Template], drawn_pool: GlyphPool
) -> None:
    # 1 px frames printed light grey, blurred, noisy and shaded by the scanner: 20 to 30
    # levels under the paper, far lighter than half way from the ink threshold to white.
    # (A generated benchmark page that was refused as "wrong form?".)
    style = PageStyle(form=FormStyle(thickness=1, cells="dividers", shade=168), writing=(0.4, 0.8))
    template = templates["change-of-address"]
    rng = np.random.default_rng(0)
    page, written = fill_form(template, drawn_pool, rng, touch_rate=0.0, style=style)
    params = ScanParams(
        angle=-1.0, scale=1.03, blur=1.15, noise=6.1, jpeg_quality=47, shading=0.385
    )
    scan, truth = scan_form(template, page, written, params, rng)
    flat = flatten_background(scan)
    threshold = ink_threshold(flat)
    assert (threshold + 255) // 2 < faint_level(flat, threshold) < 235
    registration, reason, _ = register_page(flat, [template], threshold)
    assert registration is not None and registration.score > 0.9, reason
    assert field_corner_error(template, registration.homography, truth) < 3.0


def styled_scan(
    form: Template, pool: GlyphPool, style: PageStyle, params: ScanParams, seed: int
) -> tuple[Template, np.ndarray, dict]:
    """A form printed in ``style`` (its blank, the reference image, too), filled and scanned."""
    template = styled_template(form, style)
    rng = np.random.default_rng(seed)
    page, written = fill_form(template, pool, rng, touch_rate=0.0, style=style)
    scan, truth = scan_form(template, page, written, params, rng)
    return template, scan, truth


def test_a_dropout_form_registered_to_its_grey_blank_is_scored_on_its_lines(
    templates: dict[str, Template], drawn_pool: GlyphPool
) -> None:
    # Printed without marks in a light grey (166): its blank, the reference image, is grey
    # too. Scored on only the blank's black (its labels), the fit of a page whose title was
    # cut off found 59% of the form and was refused as "wrong form?".
    style = PageStyle(form=FormStyle(3, "dividers", 166, 19), marks=False, writing=(0.4, 0.8))
    params = ScanParams(angle=-3.0, shift=(127.0, -150.0), noise=6.8)
    template, scan, truth = styled_scan(
        templates["change-of-address"], drawn_pool, style, params, 1
    )
    registration, reason, _ = register_page(flatten_background(scan), [template])
    assert registration is not None and registration.score > 0.9, reason
    assert field_corner_error(template, registration.homography, truth) < 3.0


def test_a_pale_hairline_form_without_marks_is_read_loosely_not_refused(
    templates: dict[str, Template], drawn_pool: GlyphPool
) -> None:
    # 1 px frames in a very light grey (196), no marks, blur and noise: the lines end about
    # 20 levels under the paper, and most of their pixels miss the faint level. Counted
    # pixel by pixel, the right fit found 70% of its lines, under FEATURE_MIN_SCORE, and the
    # page was refused as "wrong form?" (so were two validation pages of the random-style
    # benchmark, at 83% and 81%). Found by the blocks' darkness, the lines are enough to read
    # the page, every field to review, but not to trust it.
    style = PageStyle(form=FormStyle(1, "dividers", 196, 17), marks=False, writing=(0.4, 0.8))
    params = ScanParams(angle=-0.8, scale=1.02, shift=(-88.0, -133.0), blur=0.8, noise=7.5)
    template, scan, truth = styled_scan(templates["loan-application"], drawn_pool, style, params, 2)
    flat = flatten_background(scan)
    threshold = ink_threshold(flat)
    search = register_module._Search.of(flat, threshold)
    right = np.array(truth["transform"]).reshape(3, 3)
    assert register_module._share(search.strict, template, right) < FEATURE_MIN_SCORE
    assert register_module._share(search.small, template, right) > FEATURE_MIN_SCORE
    registration, reason, _ = register_page(flat, [template], threshold)
    assert registration is not None and registration.pale, reason
    assert register_module.MIN_SCORE <= registration.score < register_module.LOOSE_SCORE
    assert field_corner_error(template, registration.homography, truth) < 3.0
    result = segment_page(scan, [template])
    assert result.status == "ok" and result.fields
    assert all("too pale" in field.doubt for field in result.fields)


def test_block_darkness_never_counts_paper_noise_or_its_tone_as_lines() -> None:
    rng = np.random.default_rng(3)
    for tone, noise in ((245.0, 7.5), (231.0, 12.0), (255.0, 0.0)):
        paper = np.clip(rng.normal(tone, noise, (400, 400)), 0, 255).astype(np.uint8)
        means = cv2.resize(paper, (100, 100), interpolation=cv2.INTER_AREA)
        assert paper_module.faint_blocks(means).mean() < 0.001
        if noise > 7.5:
            continue  # a 24-level line is within this paper's noise even on average
        # A 2 px line 24 levels under the paper (noise 7.5, as on the refused pages) is
        # found in nearly every block it crosses (the fit's score dilates over the rest).
        paper[200:202] = np.clip(paper[200:202].astype(np.int16) - 24, 0, 255).astype(np.uint8)
        means = cv2.resize(paper, (100, 100), interpolation=cv2.INTER_AREA)
        assert paper_module.faint_blocks(means)[50].mean() >= 0.95


def test_faint_level_never_counts_paper_noise_or_a_bilevel_page() -> None:
    rng = np.random.default_rng(2)
    noisy = np.clip(rng.normal(230, 6, (400, 300)), 0, 255).astype(np.uint8)
    level = faint_level(noisy, 150)
    assert level <= 230 - 4 * 6 + 1 and (noisy < level).mean() < 0.001
    bilevel = np.full((400, 300), 255, np.uint8)
    bilevel[100:103, :] = 0
    assert faint_level(bilevel, 60) == 255 - 16


def test_faint_level_medians_from_the_histogram_equal_numpys() -> None:
    rng = np.random.default_rng(5)
    for size in (1, 2, 3, 10, 11, 1000, 1001):
        for low, high in ((0, 256), (200, 210)):  # any levels; a narrow band with many ties
            pixels = rng.integers(low, high, size).astype(np.uint8)
            counts = np.bincount(pixels, minlength=256)
            levels = np.arange(256.0)
            median = float(np.median(pixels))
            assert paper_module._median(levels, counts) == median
            spread = float(np.median(np.abs(pixels.astype(np.float32) - median)))
            assert paper_module._median(np.abs(levels - median), counts) == spread
