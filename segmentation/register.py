"""Register a page to the template that fits it best, from its four printed registration marks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from segmentation import features
from segmentation.coverage import LOW as _LOW
from segmentation.coverage import Coverage, coverage, printed
from segmentation.mark_fits import cut_mark_fits, fit_points, mark_side
from segmentation.marks import PageMarks, correspondences, find_marks, template_marks
from segmentation.paper import faint_blocks, faint_level, ink_threshold
from segmentation.records import Template

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
PERFECT = 1.0  # a fit scoring this found all its form's lines: none can score more
TIE = 0.02
"""Fits whose scores are this close are told apart by how much of their lines they find."""
MORE = 0.02
"""Within TIE, a fit that finds this share more printed lines than another is the better fit.

Scores are shares of a form's own lines, so a revision of a form that adds a field finds
every line of the old revision on its pages as well as its own: the two score alike there,
and the new revision finds more. On the old revision's pages, the new one misses its added
lines and scores lower.
"""


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
            for homography in cut_mark_fits(*search.marks_for(template), template):
                search.consider(template, homography)
        if search.below(FEATURE_MIN_SCORE):
            # Marks lost (covered, cut off) or a form without them: match the form's features.
            _match_features(search, page, templates)
        if search.below(FEATURE_MIN_SCORE):
            # A form printed in a light "dropout" colour, written on in a dark pen: the print's
            # features drown among the pen's. Matched again with both equally dark.
            _match_features(search, _all_ink_dark(page, threshold), templates)
    return _outcome(search.best, marked=bool(_with_marks(templates)))


def _all_ink_dark(page: np.ndarray, threshold: int | None) -> np.ndarray:
    """The page with everything darker than its faint level black and the rest white.

    On the hsf-dev pages with their print made light grey (190) or light red and their
    writing left dark, the fit by features found no form; on this image it fits all six.
    """
    level = faint_level(page, ink_threshold(page) if threshold is None else threshold)
    return np.where(page < level, 0, 255).astype(np.uint8)


def _fit_by_marks(search: _Search, templates: Sequence[Template]) -> None:
    """Let the search consider each fit of the page's whole marks to a form's marks.

    Only forms printed with marks are fitted so (``_with_marks``).
    """
    for template in _with_marks(templates):
        if search.out_of_reach(template):
            continue  # it cannot beat the best, however it fits
        lying = search.lying_as_best(template)
        if lying is not None:  # a twin or revision of the perfect fit's form (see _fit_of)
            search.consider(template, lying)
            continue
        marks, scale0 = search.marks_for(template)
        for source, target in correspondences(marks.whole, template_marks(template), scale0):
            search.consider(template, fit_points(target, source))
            if search.out_of_reach(template):
                break  # its other fits cannot beat this one (see _match_features)


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
        lines: how much of its form's printed lines the best fit found (``Coverage.found``).
    """

    ink: np.ndarray
    shrunk: np.ndarray
    small: np.ndarray
    strict: np.ndarray
    found: dict[float, PageMarks] = field(default_factory=dict)
    best: Registration | None = None
    lines: float = 0.0

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
        side = mark_side(template) * scale0
        if side not in self.found:
            self.found[side] = find_marks(self.ink, self.shrunk, _LOW, side)
        return self.found[side], scale0

    def consider(self, template: Template, homography: np.ndarray, floor: float = 0.0) -> None:
        """Keep this fit when it beats the best so far (``_better``); under ``floor`` it cannot.

        Lines found only on average (``paper.faint_blocks``) can get a page read, never trusted: a
        fit that scores under LOOSE_SCORE without them scores just under it with them, and its
        page is read with every field to review. Strokes crossing such pale lines are where
        cutting is weakest (the stem of a 9 crossing a pale comb was taken for a divider).
        """
        found = coverage(self.small, template, homography)
        score, pale = found.share, False
        if score < floor:
            score = min(score, MIN_SCORE - 0.01)
        elif score >= LOOSE_SCORE and _share(self.strict, template, homography) < LOOSE_SCORE:
            score, pale = LOOSE_SCORE - 0.005, True
        if self._better(score, found):
            self.best, self.lines = Registration(template, homography, score, pale), found.found()

    def _better(self, score: float, found: Coverage) -> bool:
        """Whether a fit scoring ``score`` with this coverage beats the best so far.

        Within TIE of each other, the fit that finds clearly more line (MORE) wins, and the
        one that finds clearly less loses; otherwise, and beyond TIE, the higher score.
        """
        if self.best is None:
            return score > 0.0
        if abs(score - self.best.score) <= TIE:
            lines = found.found()
            if lines > self.lines * (1 + MORE):
                return True
            if lines < self.lines * (1 - MORE):
                return False
        return score > self.best.score

    def below(self, score: float) -> bool:
        """True while nothing found scores ``score`` or more."""
        return self.best is None or self.best.score < score

    def lying_as_best(self, template: Template) -> np.ndarray | None:
        """The best fit's homography for a form of its size, once it found every line.

        A form that could beat such a fit can do so only by finding its lines and more: as
        a twin or a revision of its form, lying where it lies (``_fit_of``).
        """
        best = self.best
        if best is None or best.score < PERFECT or template.size != best.template.size:
            return None
        return best.homography

    def out_of_reach(self, template: Template) -> bool:
        """True when no fit of ``template`` could beat the best fit.

        The best fit found every line of its form (PERFECT), and the form does not print
        enough more to find MORE lines than it (``_better``).
        """
        return not self.below(PERFECT) and printed(template) <= self.lines * (1 + MORE)


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
    the first full fit that finds every one of its form's lines on the page (score PERFECT)
    unless a form not fitted yet prints enough more to beat it (``_Search.out_of_reach``): the
    fits left (quick ones too, ``_likely``) would change nothing. Near-duplicate forms (one
    form printed in several styles) all pass the quick stage, and a page used to pay a full
    fit for each of them.
    """
    # At its scale against the forms: a page scanned far smaller than all of them is enlarged.
    scale = max(search.scale_of(template) for template in templates)
    page_features = features.orb(page, features.PAGE_FEATURES, scale)
    likely = _likely(search, page_features, templates) if len(templates) > 1 else templates
    fitted: set[int] = set()
    for template in likely:
        estimate = _fit_of(search, page_features, template)
        if estimate is not None and features.plausible(estimate, search.scale_of(template)):
            # Feature matches on repetitive comb boxes can lock on one cell off: demand more.
            search.consider(template, estimate, FEATURE_MIN_SCORE)
        fitted.add(id(template))
        if all(search.out_of_reach(t) for t in templates if id(t) not in fitted):
            break  # before the next form's quick fit


def _fit_of(
    search: _Search, page_features: features.Features, template: Template, quick: bool = False
) -> np.ndarray | None:
    """The form's fit by features (quick or full), or the best fit's where that settles it.

    None, unfitted, for a form that cannot beat the best fit however it fits
    (``_Search.out_of_reach``). Once a fit found every line of its form, a form of the same
    size can beat it only by finding those lines and more (``_Search._better``): as a twin or
    a revision of that form, lying where it lies. It is scored under that fit
    (``_Search.lying_as_best``), without matching its features (a full fit costs about 40 ms).
    """
    if search.out_of_reach(template):
        return None
    lying = search.lying_as_best(template)
    if lying is not None:
        return lying
    return features.fit(page_features, template, quick=quick)


def _likely(
    search: _Search, page_features: features.Features, templates: Sequence[Template]
) -> Iterator[Template]:
    """The forms whose quick fit scores within QUICK_MARGIN of the best, best score first.

    All of them, in their order, when no quick fit could pass (under FEATURE_MIN_SCORE), as
    if there were no quick stage. A quick fit scoring PERFECT settles the best: the forms so
    far are yielded (best first, so that one first), then each later form as soon as it is
    fitted quickly. A caller that stops early (its full fit found every line, and no form
    left could beat it) so spares the quick fits of the forms after it; a form that cannot
    beat the best fit so far (``_Search.out_of_reach``) is not fitted, and scores 0.
    """
    quick: list[float] = []
    best = 0.0
    judged = 0  # the forms before this one were yielded or left out
    page_strongest = features.strongest(page_features, features.QUICK_PAGE_FEATURES)
    for template in templates:
        estimate = _fit_of(search, page_strongest, template, quick=True)
        if estimate is None or not features.plausible(estimate, search.scale_of(template)):
            quick.append(0.0)
        else:
            quick.append(_share(search.small, template, estimate))
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


def _outcome(best: Registration | None, marked: bool) -> tuple[Registration | None, str, float]:
    """``register_page``'s answer: the registration, or None with the reason.

    ``marked``: some of the forms are printed with registration marks (a page of a form
    without them is fitted by its blank alone, and marks are not what it lacks).
    """
    if best is None and not marked:
        reason = "the page matches none of the forms' blanks (wrong form, or too faint a scan?)"
        return None, reason, 0.0
    if best is None:
        return None, "registration marks not found (wrong form, or marks cut off or covered?)", 0.0
    if best.score < MIN_SCORE:
        reason = (
            f"best match {best.template.name!r} finds only {best.score:.0%} of its printed lines"
            f" (need {MIN_SCORE:.0%}): wrong form?"
        )
        return None, reason, best.score
    return best, "", best.score


def _share(small_ink: np.ndarray, template: Template, homography: np.ndarray) -> float:
    """The share of the form's printed lines that the fit finds (``coverage``)."""
    return coverage(small_ink, template, homography).share
