"""A page's fit to a form from their ORB features, for forms whose marks cannot place them.

Registration (``segmentation.register``) fits most pages by their printed marks. A form
printed without marks, or a page whose marks were lost, is fitted here: ORB features of the
page and of the form's blank (its reference image, or the blank as we render it), matched
with a ratio test, and a homography fitted to the matches.
"""

from __future__ import annotations

import functools
from typing import Any

import cv2
import numpy as np

from segmentation.records import Template
from segmentation.render import render_blank_form

FEATURE_SCALE = 2  # feature matching works on pages shrunk by this factor
# ORB features kept per page and per blank form. Matching costs their product, per template;
# on the real HSF pages and on scanned generated pages (turned, skewed, marks removed) 2000
# and 4000 registered every page as 4000 and 6000 did, with the same scores, in half the time.
TEMPLATE_FEATURES = 2000
PAGE_FEATURES = 4000
# The quick fit that chooses which forms to fit in full (``register._match_features``): the
# form's 500 strongest features against the page's 2000 strongest. On 23 generated pages
# whose marks were removed, each against 27 forms, the quick fit of the form the full search
# chose scored at most 0.0001 under the best quick fit (0.015 against all 4000 of the
# page's features, which took 1.8 times as long).
SMALLEST_SCALE = 0.5
"""A page smaller than this against its form has its features taken from it enlarged to it
(``orb``)."""
QUICK_FEATURES = 500
QUICK_PAGE_FEATURES = 2000
QUICK_MARGIN = 0.1

Features = tuple[Any, Any]  # ORB keypoints and their descriptors


@functools.lru_cache(maxsize=256)
def template_features(template: Template) -> Features:
    """ORB keypoints and descriptors of the blank form (or reference image), shrunk."""
    blank = template.reference_image
    if blank is None:
        blank = render_blank_form(template, marks=False)
    return orb(blank, TEMPLATE_FEATURES)


@functools.lru_cache(maxsize=256)
def quick_features(template: Template) -> Features:
    """The QUICK_FEATURES strongest of the form's features."""
    return strongest(template_features(template), QUICK_FEATURES)


def strongest(features: Features, count: int) -> Features:
    """The ``count`` strongest of some features (by ORB's corner response)."""
    keys, descriptors = features
    if descriptors is None or len(keys) <= count:
        return features
    best = np.argsort([-key.response for key in keys], kind="stable")[:count]
    return tuple(keys[i] for i in best), descriptors[best]


def orb(image: np.ndarray, features: int, scale: float = 1.0) -> Features:
    """The ``features`` strongest ORB features of an image (uint8, dark on light), shrunk.

    ``scale`` is the image's against the form it is matched to (a page scanned at 100 dpi
    for a form at 300: 1/3). ORB's pyramid (8 levels of 1.2) spans 3.6 times, but its
    matches thin out long before: the hsf-dev pages at half their form's scale all
    registered, at a third none did. Under SMALLEST_SCALE, the features are taken from the
    image enlarged to it, their places given in the image's own pixels (shrunk by
    FEATURE_SCALE, as always).
    """
    enlarge = max(1.0, SMALLEST_SCALE / scale)
    shrink = enlarge / FEATURE_SCALE
    interpolation = cv2.INTER_AREA if shrink < 1 else cv2.INTER_LINEAR
    small = cv2.resize(image, None, fx=shrink, fy=shrink, interpolation=interpolation)
    keys, descriptors = cv2.ORB.create(nfeatures=features).detectAndCompute(small, None)
    if enlarge > 1.0:
        keys = tuple(
            cv2.KeyPoint(
                k.pt[0] / enlarge,
                k.pt[1] / enlarge,
                k.size / enlarge,
                k.angle,
                k.response,
                k.octave,
                k.class_id,
            )
            for k in keys
        )
    return keys, descriptors


def fit(page_features: Features, template: Template, quick: bool = False) -> np.ndarray | None:
    """Template-to-page homography from ORB matches (ratio test, RANSAC), or None.

    Args:
        page_features: ``orb(page, PAGE_FEATURES)`` of the page (uint8, dark ink on light
            paper); for a quick fit, its ``strongest(..., QUICK_PAGE_FEATURES)``.
        template: the form.
        quick: fit the form's strongest features only, with USAC MAGSAC++ (to choose forms).
    """
    keys_t, desc_t = quick_features(template) if quick else template_features(template)
    method = cv2.USAC_MAGSAC if quick else cv2.RANSAC
    keys_p, desc_p = page_features
    if desc_t is None or desc_p is None or len(keys_p) < 10:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(desc_t, desc_p, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
    if len(good) < 12:
        return None
    src = np.array([keys_t[m.queryIdx].pt for m in good], dtype=np.float32)
    dst = np.array([keys_p[m.trainIdx].pt for m in good], dtype=np.float32)
    homography, inliers = cv2.findHomography(src, dst, method, 3.0)
    if homography is None or int(inliers.sum()) < 12:
        return None
    grow = np.diag([float(FEATURE_SCALE), float(FEATURE_SCALE), 1.0])
    return np.asarray(grow @ homography @ np.linalg.inv(grow), dtype=np.float64)


def plausible(homography: np.ndarray, scale0: float) -> bool:
    """True for a scan-like map: unmirrored, little shear or perspective, about the page's scale."""
    normalised = homography / homography[2, 2]
    linear = normalised[:2, :2]
    singular = np.linalg.svd(linear, compute_uv=False)
    return bool(
        np.linalg.det(linear) > 0
        and singular[0] / singular[1] < 1.1
        and 0.7 * scale0 < singular[1] <= singular[0] < 1.4 * scale0
        and np.abs(normalised[2, :2]).max() < 5e-5
    )
