"""Register a page to the template that fits it best, from its four printed registration marks."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from segmentation import features
from segmentation.marks import (
    PageMarks,
    correspondences,
    find_marks,
    place_cut_mark,
    template_marks,
)
from segmentation.paper import faint_blocks, faint_level, flatten_background, ink_threshold
from segmentation.records import Template
from segmentation.render import render_blank_form
from segmentation.templates import mark_boxes

MIN_SCORE = 0.6
"""Registrations under this share of the form's printed lines found are refused."""
FEATURE_MIN_SCORE = 0.85
"""Registrations from form features (fewer than two marks found) need this score."""
LOOSE_SCORE = FEATURE_MIN_SCORE
"""A page registered under this score (but at least MIN_SCORE) is read, every field to review.

The bar a fit by features must pass: a fit by marks under it is only loose. Marks say that
a page is one of our forms, not which one: every form puts them in the same corners. A page
of a form missing from the templates then fits a similar one by its marks, and that fit
finds part of its lines: 0.74-0.78 on generated change-of-address pages fitted to the
meter-reading form (15 of 40 house-style pages, 15 of 40 random-style ones). Right fits
scored 0.858 and up on those 80 pages, 0.894 and up on 90 more, 0.99 on the real HSF pages.
"""
_LOW = 4  # scoring works on pages shrunk by this factor
PERFECT = 1.0  # a fit scoring this found all its form's lines: none can score more


@dataclass(frozen=True, slots=True)
class Registration:
    """Where a template lies on a page.

    Attributes:
        template: the template that fits best.
        homography: float64 (3, 3), template pixel coordinates to page pixel coordinates.
        score: share of the template's printed lines found on the page, in [0, 1].
        pale: the lines were found enough only on average (``_Search.consider``): the
            score is then just under LOOSE_SCORE, and the page is read, not trusted.
    """

    template: Template
    homography: np.ndarray
    score: float
    pale: bool = False


def register_page(
    page: np.ndarray, templates: Sequence[Template], threshold: int | None = None
) -> tuple[Registration | None, str, float]:
    """Find the template and homography that fit a page best.

    Handles rotation, scale, shift and pages turned upside down or sideways (the marks' layout
    tells which way up). Three of the four marks suffice; marks cut by the page edge count
    too. Only when the marks fail are the forms' own features matched (ORB, much slower); a
    form printed without marks is only ever matched so.

    Args:
        page: uint8 (H, W), dark ink on light paper, as loaded.
        templates: the candidate forms. Those printed with registration marks are fitted by
            them; the others, and all of them when no fit by marks is good enough, by their
            features.
        threshold: ink threshold (``ink_threshold(page)`` when None).

    Returns:
        (registration or None, reason when None, best score seen).
    """
    search = _Search.of(page, threshold)
    _fit_by_marks(search, templates)
    if search.below(MIN_SCORE):
        # Marks cut by the page edge: place them from what is left of them.
        for template in _with_marks(templates):
            for homography in _cut_mark_fits(*search.marks_for(template), template):
                search.consider(template, homography)
        if search.below(FEATURE_MIN_SCORE):
            # Marks lost (covered, cut off) or a form without them: match the form's features.
            _match_features(search, page, templates)
    return _outcome(search.best)


def _fit_by_marks(search: _Search, templates: Sequence[Template]) -> None:
    """Let the search consider each fit of the page's whole marks to a form's marks.

    Only forms printed with marks are fitted so (``_with_marks``).
    """
    for template in _with_marks(templates):
        marks, scale0 = search.marks_for(template)
        for source, target in correspondences(marks.whole, template_marks(template), scale0):
            search.consider(template, _fit(target, source))
            if not search.below(PERFECT):
                return  # no later fit can score more (see _match_features)


def _with_marks(templates: Sequence[Template]) -> list[Template]:
    """The forms printed with registration marks.

    A form without them (``marks: false``) is not fitted by a page's marks: every form puts
    its marks in the same corners, so those of a page with marks fit it as well as they fit
    the page's own form, and its lines are then all that tells the forms apart. A form whose
    lines are faint (a thin dropout frame) then lost to another form's blank that happened
    to cover more of the page's ink. It is fitted by its features instead.
    """
    return [template for template in templates if template.marks]


@dataclass(slots=True)
class _Search:
    """The best registration found so far, and the page's ink at full and low resolution.

    Attributes:
        ink: uint8 (H, W), 255 where ink.
        shrunk: uint8 (H // _LOW, W // _LOW), the ink's mean per block.
        small: uint8 (H // _LOW, W // _LOW), 1 near ink at low resolution (for scoring):
            blocks with a faint pixel count, or darker than the paper on average.
        strict: the same with the blocks' faint pixels only (see ``consider``).
        found: the mark-like blobs found per expected mark side (found once per side).
        best: the best registration so far, or None.
    """

    ink: np.ndarray
    shrunk: np.ndarray
    small: np.ndarray
    strict: np.ndarray
    found: dict[float, PageMarks] = field(default_factory=dict)
    best: Registration | None = None

    @classmethod
    def of(cls, page: np.ndarray, threshold: int | None) -> _Search:
        """Start a search on a uint8 (H, W) page, dark ink on light paper."""
        threshold = ink_threshold(page) if threshold is None else threshold
        _, ink = cv2.threshold(page, threshold - 1, 255, cv2.THRESH_BINARY_INV)  # 255: ink
        height, width = page.shape
        rows, cols = height // _LOW, width // _LOW
        shrunk = cv2.resize(
            ink[: rows * _LOW, : cols * _LOW], (cols, rows), interpolation=cv2.INTER_AREA
        )
        # Scoring asks whether the form's lines are printed where the fit puts them, so it
        # counts light grey (a dropout-colour frame) as ink, and a block as inked when a
        # hairline crosses it (a 1 px line fills only a quarter of a 4x4 block).
        whole = page[: rows * _LOW, : cols * _LOW]
        faint = (whole < faint_level(page, threshold)).astype(np.uint8)
        lines = cv2.resize(faint * 255, (cols, rows), interpolation=cv2.INTER_AREA) > 40
        means = cv2.resize(whole, (cols, rows), interpolation=cv2.INTER_AREA)
        square = np.ones((3, 3), np.uint8)
        small = cv2.dilate((lines | faint_blocks(means)).astype(np.uint8), square)
        return cls(ink, shrunk, small, cv2.dilate(lines.astype(np.uint8), square))

    def scale_of(self, template: Template) -> float:
        """The page's scale against the template, from their longer sides."""
        return max(self.ink.shape) / max(template.size)

    def marks_for(self, template: Template) -> tuple[PageMarks, float]:
        """The page's mark-like blobs for this template's marks, and the page's scale."""
        scale0 = self.scale_of(template)
        side = _mark_side(template) * scale0
        if side not in self.found:
            self.found[side] = find_marks(self.ink, self.shrunk, _LOW, side)
        return self.found[side], scale0

    def consider(self, template: Template, homography: np.ndarray, floor: float = 0.0) -> None:
        """Keep this fit when it scores best so far (a score under ``floor`` cannot pass).

        Lines found only on average (``paper.faint_blocks``) can get a page read, never trusted: a
        fit that scores under LOOSE_SCORE without them scores just under it with them, and its
        page is read with every field to review. Strokes crossing such pale lines are where
        cutting is weakest (the stem of a 9 crossing a pale comb was taken for a divider).
        """
        score, pale = _score(self.small, template, homography), False
        if score < floor:
            score = min(score, MIN_SCORE - 0.01)
        elif score >= LOOSE_SCORE and _score(self.strict, template, homography) < LOOSE_SCORE:
            score, pale = LOOSE_SCORE - 0.005, True
        if score > (self.best.score if self.best is not None else 0.0):
            self.best = Registration(template, homography, score, pale)

    def below(self, score: float) -> bool:
        """True while nothing found scores ``score`` or more."""
        return self.best is None or self.best.score < score


def _match_features(search: _Search, page: np.ndarray, templates: Sequence[Template]) -> None:
    """Fit the forms by their features (ORB) and let the search consider each fit.

    A full fit costs about 40 ms a form (``knnMatch`` of 2000 by 4000 descriptors, then
    RANSAC, slow where most matches are wrong, as they are for every form but the page's
    own), so a user with thirty forms printed without marks would wait over a second a page.
    Each form is first fitted quickly: its ``features.QUICK_FEATURES`` strongest features
    against the page's ``QUICK_PAGE_FEATURES`` strongest, with USAC MAGSAC++, which needs far
    fewer tries than RANSAC among wrong matches. The quick fits only choose: the forms whose
    quick fit scores within ``QUICK_MARGIN`` of the best are fitted in full and considered,
    so the fit kept is the one a full search finds (``_likely``). A single form is fitted in
    full straight away: there is nothing to choose.

    The forms are fitted in full likeliest first (best quick score), and the search stops at
    the first full fit that finds every one of its form's lines on the page (score PERFECT):
    no later form can score more, and a tie keeps the form fitted first, so the fits left
    (quick ones too, ``_likely``) would change nothing. Near-duplicate forms (one form
    printed in several styles) all pass the quick stage, and a page used to pay a full fit
    for each of them.
    """
    page_features = features.orb(page, features.PAGE_FEATURES)
    likely = _likely(search, page_features, templates) if len(templates) > 1 else templates
    for template in likely:
        estimate = features.fit(page_features, template)
        if estimate is not None and features.plausible(estimate, search.scale_of(template)):
            # Feature matches on repetitive comb boxes can lock on one cell off: demand more.
            search.consider(template, estimate, FEATURE_MIN_SCORE)
        if not search.below(PERFECT):
            break  # before the next form's quick fit


def _likely(
    search: _Search, page_features: features.Features, templates: Sequence[Template]
) -> Iterator[Template]:
    """The forms whose quick fit scores within QUICK_MARGIN of the best, best score first.

    All of them, in their order, when no quick fit could pass (under FEATURE_MIN_SCORE), as
    if there were no quick stage. A quick fit scoring PERFECT settles the best: the forms so
    far are yielded (best first, so that one first), then each later form as soon as it is
    fitted quickly. A caller that stops early (its full fit found every line) so spares the
    quick fits of the forms after it.
    """
    quick: list[float] = []
    best = 0.0
    judged = 0  # the forms before this one were yielded or left out
    page_strongest = features.strongest(page_features, features.QUICK_PAGE_FEATURES)
    for template in templates:
        estimate = features.fit(page_strongest, template, quick=True)
        if estimate is None or not features.plausible(estimate, search.scale_of(template)):
            quick.append(0.0)
        else:
            quick.append(_score(search.small, template, estimate))
        best = max(best, quick[-1])
        if best >= PERFECT:
            yield from _within_margin(templates[judged : len(quick)], quick[judged:], best)
            judged = len(quick)
    if best < FEATURE_MIN_SCORE:
        yield from templates
    elif judged < len(templates):
        yield from _within_margin(templates[judged:], quick[judged:], best)


def _within_margin(
    templates: Sequence[Template], quick: Sequence[float], best: float
) -> list[Template]:
    """The forms whose quick score is within QUICK_MARGIN of ``best``, best score first."""
    margin = features.QUICK_MARGIN
    ranked = sorted(zip(templates, quick, strict=True), key=lambda pair: -pair[1])  # stable
    return [t for t, score in ranked if score >= best - margin]


def _outcome(best: Registration | None) -> tuple[Registration | None, str, float]:
    """``register_page``'s answer: the registration, or None with the reason."""
    if best is None:
        return None, "registration marks not found (wrong form, or marks cut off or covered?)", 0.0
    if best.score < MIN_SCORE:
        reason = (
            f"best match {best.template.name!r} finds only {best.score:.0%} of its printed lines"
            f" (need {MIN_SCORE:.0%}): wrong form?"
        )
        return None, reason, best.score
    return best, "", best.score


def _mark_side(template: Template) -> int:
    """A registration mark's side in template pixels."""
    x0, _, x1, _ = mark_boxes(template.size, template.dpi)[0]
    return x1 - x0


def _cut_mark_fits(marks: PageMarks, scale0: float, template: Template) -> list[np.ndarray]:
    """Homographies from the whole marks and those cut by the page edge, at least one cut.

    Each cut mark first stands at a rough guess of its centre; the fit from those guesses
    gives the marks' outlines on the page, which then place each cut mark exactly.

    Args:
        marks: what ``find_marks`` found on the page.
        scale0: page pixels per template pixel, from the page size.
        template: the form.

    Returns:
        float64 (3, 3) template-to-page homographies, one per plausible pairing.
    """
    if not len(marks.cut):
        return []
    points = np.vstack([marks.whole, marks.cut_guesses])
    whole = len(marks.whole)
    centres, boxes = template_marks(template), mark_boxes(template.size, template.dpi)
    fits = []
    for source, target in correspondences(points, centres, scale0):
        rows = [int(np.flatnonzero((points == p).all(1))[0]) for p in source]
        if max(rows) < whole:
            continue  # whole marks only: tried already
        first = _fit(target, source)
        which = [int(np.argmin(np.abs(centres - t).sum(1))) for t in target]
        # Thresholding grows (or shrinks) every mark alike: measure it on the whole ones.
        grown = [
            (math.sqrt(marks.whole_areas[r]) - math.sqrt(_mark_area(boxes[m], first))) / 2
            for r, m in zip(rows, which, strict=True)
            if r < whole
        ]
        grow = float(np.clip(np.mean(grown), -2.0, 2.0)) if grown else 0.0
        placed = source.copy()
        for k, (r, m) in enumerate(zip(rows, which, strict=True)):
            if r >= whole:
                seen = marks.cut[r - whole]
                centre = place_cut_mark(seen, source[k], boxes[m], first, marks.page_size, grow)
                if centre is None:
                    break
                placed[k] = centre
        else:
            fits.append(_fit(target, placed))
    return fits


def _mark_area(mark: tuple[int, int, int, int], homography: np.ndarray) -> float:
    """Area in page pixels of a template mark box mapped by ``homography``."""
    x0, y0, x1, y1 = mark
    corners = np.array([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]], np.float64)
    return float(
        cv2.contourArea(cv2.perspectiveTransform(corners, homography)[0].astype(np.float32))
    )


def _fit(template_pts: np.ndarray, page_pts: np.ndarray) -> np.ndarray:
    src, dst = template_pts.astype(np.float32), page_pts.astype(np.float32)
    if len(src) == 2:  # a similarity: rotation, scale and shift from two points
        a, b = complex(*template_pts[0]), complex(*template_pts[1])
        c, d = complex(*page_pts[0]), complex(*page_pts[1])
        z = (d - c) / (b - a)
        t = c - z * a
        return np.array([[z.real, -z.imag, t.real], [z.imag, z.real, t.imag], [0.0, 0.0, 1.0]])
    if len(src) == 4:
        return cv2.getPerspectiveTransform(src, dst).astype(np.float64)
    return np.vstack([cv2.getAffineTransform(src, dst), [0.0, 0.0, 1.0]]).astype(np.float64)


@functools.lru_cache(maxsize=32)
def _structure(template: Template) -> np.ndarray:
    """The template's printed lines (no marks), shrunk, as a 0/1 uint8 mask.

    A reference image (the user's scanned blank, labels and all) counts as printed whatever
    is clearly darker than its paper, as a page's ink is counted (``paper.faint_level``): a
    form printed in a light dropout colour is all lines that half way to black would miss.
    A rendered blank has no labels.
    """
    if template.reference_image is not None:
        blank = flatten_background(template.reference_image)
        lines = (blank < faint_level(blank, ink_threshold(blank))).astype(np.uint8)
        if template.marks:
            for x0, y0, x1, y1 in mark_boxes(template.size, template.dpi):
                lines[y0:y1, x0:x1] = 0
    else:
        lines = (render_blank_form(template, labels=False, marks=False) < 128).astype(np.uint8)
    width, height = template.size
    small = cv2.resize(lines * 255, (width // _LOW, height // _LOW), interpolation=cv2.INTER_AREA)
    return (small > 60).astype(np.uint8)


def _score(small_ink: np.ndarray, template: Template, homography: np.ndarray) -> float:
    """Share of the template's (shrunk) printed lines that land on (dilated) page ink."""
    structure = _structure(template)
    # A shrunk pixel covers _LOW x _LOW pixels: its centre is not at _LOW times its index.
    # Left out, the offset cancels on upright pages only: a correct fit of a page turned
    # upside down would lose some of its lines.
    offset = (1.0 / _LOW - 1.0) / 2
    shrink = np.array([[1.0 / _LOW, 0.0, offset], [0.0, 1.0 / _LOW, offset], [0.0, 0.0, 1.0]])
    to_small_page = shrink @ homography @ np.linalg.inv(shrink)
    warped = cv2.warpPerspective(
        small_ink,
        to_small_page,
        (structure.shape[1], structure.shape[0]),
        flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
        borderValue=0,
    )
    total = int(structure.sum())
    return float((warped & structure).sum()) / total if total else 0.0
