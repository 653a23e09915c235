"""Pen marks in tick boxes, drawn as people draw them: ticks, crosses, fills, scribbles, loops.

Every mark is a wobbly polyline drawn with a pen of random width and darkness, placed and
sized at random within (and sometimes over) the box. A crossed-out box holds a mark and then
dense strokes back and forth that run out across the frame on both sides.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from segmentation.records import Box, FieldSpec

MARKS = ("tick", "cross", "fill", "scribble", "circle", "dot_tick")
"""The kinds of mark that mean "ticked"."""


def draw_mark(page: np.ndarray, box: Box, kind: str, rng: np.random.Generator, dpi: int) -> None:
    """Draw one pen mark of ``kind`` (one of MARKS, or ``crossed_out``) over ``box``, in place.

    Args:
        page: uint8 (H, W), dark ink on light paper, at ``dpi``.
        box: the tick box (x0, y0, x1, y1) in the page.
        kind: the mark.
        rng: the random source.
        dpi: the page's resolution (sets the pen's width).
    """
    pen = max(1, round(rng.uniform(0.15, 0.5) / 25.4 * dpi))  # a 0.15-0.5 mm pen
    darkness = float(rng.uniform(0.55, 1.0))
    if kind == "crossed_out":
        strokes = _strokes(box, str(rng.choice(MARKS[:4])), rng) + _strike(box, rng)
    else:
        strokes = _strokes(box, kind, rng)
    # Drawn in a window around the box (marks and strikes reach at most a box side out).
    side = max(box[2] - box[0], box[3] - box[1])
    wx0, wy0 = max(0, box[0] - 2 * side), max(0, box[1] - 2 * side)
    wx1, wy1 = min(page.shape[1], box[2] + 2 * side), min(page.shape[0], box[3] + 2 * side)
    layer = np.zeros((wy1 - wy0, wx1 - wx0), np.float32)
    for stroke in strokes:
        points = np.round((stroke - (wx0, wy0)) * 8).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(layer, [points], False, 1.0, pen, cv2.LINE_AA, shift=3)
    ink = (255.0 * (1.0 - np.clip(layer, 0, 1) * darkness)).astype(np.uint8)
    window = page[wy0:wy1, wx0:wx1]
    np.minimum(window, ink, out=window)


def _strokes(box: Box, kind: str, rng: np.random.Generator) -> list[np.ndarray]:
    """The mark's strokes, each float (N, 2) page points."""
    x0, y0, x1, y1 = box
    side = min(x1 - x0, y1 - y0)
    size = side * rng.uniform(0.55, 1.15)  # some marks overrun the box
    cx = (x0 + x1) / 2 + rng.uniform(-0.12, 0.12) * side
    cy = (y0 + y1) / 2 + rng.uniform(-0.12, 0.12) * side
    unit: list[list[tuple[float, float]]]
    if kind in ("tick", "dot_tick"):
        low = (rng.uniform(-0.15, 0.05), rng.uniform(0.2, 0.45))
        unit = [
            [
                (rng.uniform(-0.5, -0.3), rng.uniform(-0.05, 0.15)),
                low,
                (rng.uniform(0.35, 0.7), rng.uniform(-0.6, -0.35)),
            ]
        ]
        if kind == "dot_tick":  # a short, small tick
            size *= 0.6
    elif kind == "cross":
        unit = [[(-0.4, -0.4), (0.4, 0.4)], [(0.4, -0.4), (-0.4, 0.4)]]
    elif kind == "fill":
        rows = int(rng.integers(5, 10))
        unit = [
            [(-0.42 if k % 2 == 0 else 0.42, -0.42 + 0.84 * k / (rows - 1)) for k in range(rows)]
        ]
        unit += [[(-0.42, -0.42), (0.42, -0.42), (0.42, 0.42), (-0.42, 0.42), (-0.42, -0.42)]]
        size = side * rng.uniform(0.85, 1.0)
    elif kind == "scribble":
        turns = int(rng.integers(4, 9))
        unit = [
            [(float(rng.uniform(-0.4, 0.4)), float(rng.uniform(-0.4, 0.4))) for _ in range(turns)]
        ]
    elif kind == "circle":
        angles = np.linspace(0, 2 * np.pi * rng.uniform(1.0, 1.2), 24)
        r = rng.uniform(0.3, 0.5)  # a loop in the box, that may spill over the frame
        unit = [[(r * np.cos(a), r * rng.uniform(0.8, 1.0) * np.sin(a)) for a in angles]]
    else:
        raise ValueError(f"unknown mark {kind!r}")
    angle = rng.uniform(-0.25, 0.25)
    rotate = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    out = []
    for stroke in unit:
        points = _wobble(np.array(stroke, float), rng) @ rotate.T * size + (cx, cy)
        out.append(points)
    return out


def _strike(box: Box, rng: np.random.Generator) -> list[np.ndarray]:
    """Dense strokes back and forth over the box, running out across the frame on both sides."""
    x0, y0, x1, y1 = box
    side = min(x1 - x0, y1 - y0)
    over = rng.uniform(0.3, 0.7) * side
    rows = int(rng.integers(4, 8))
    top, bottom = y0 + 0.1 * side, y1 - 0.1 * side
    points = [
        (x0 - over if k % 2 == 0 else x1 + over, top + (bottom - top) * k / (rows - 1))
        for k in range(rows)
    ]
    slope = rng.uniform(-0.3, 0.3) * side
    return [np.array([(x, y + slope * (x - x0) / side) for x, y in points], float)]


def _wobble(points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A stroke through ``points`` (unit box), resampled with a hand's small wobble."""
    if len(points) < 2:
        return points
    steps = np.concatenate(
        [np.linspace(points[i], points[i + 1], 6, endpoint=False) for i in range(len(points) - 1)]
        + [points[-1:]]
    )
    return steps + rng.normal(0, 0.02, steps.shape)


def write_marks(page: np.ndarray, spec: FieldSpec, rng: np.random.Generator, dpi: int) -> dict:
    """Fill a ``mark`` or ``choice`` field as a person would; return its ground truth.

    A lone mark is ticked (any mark) or left empty about equally, and crossed out now and
    then. A choice usually has one option ticked; sometimes none, two, or one crossed out
    and another ticked.

    Returns:
        ``{name, kind, value, states, chars: []}``: ``states`` per option (``empty``, a mark
        kind, or ``crossed_out``); ``value`` is ``1``/``0`` for a mark (``""`` crossed out),
        the ticked option's value for a choice (``""`` when none or several are).
    """
    states = choose_states(spec, rng)
    for option, state in zip(spec.options, states, strict=True):
        if state != "empty":
            draw_mark(page, option.box, state, rng, dpi)
    return {
        "name": spec.name,
        "kind": spec.kind,
        "value": mark_value(spec, states),
        "states": list(states),
        "chars": [],
    }


def choose_states(spec: FieldSpec, rng: np.random.Generator) -> list[str]:
    """What each option of a field holds: ``empty``, a mark of MARKS, or ``crossed_out``."""

    def mark() -> str:
        return str(rng.choice(MARKS))

    n = len(spec.options)
    if spec.kind == "mark":
        roll = rng.random()
        return ["crossed_out" if roll < 0.06 else mark() if roll < 0.53 else "empty"]
    states = ["empty"] * n
    roll = rng.random()
    picks = rng.permutation(n)
    if roll < 0.82:
        states[picks[0]] = mark()
    elif roll < 0.9:
        pass
    elif roll < 0.95:
        states[picks[0]], states[picks[1]] = mark(), mark()
    else:
        states[picks[0]], states[picks[1]] = mark(), "crossed_out"
    return states


def mark_value(spec: FieldSpec, states: Sequence[str]) -> str:
    """The value a person meant by these marks (see ``write_marks``)."""
    if spec.kind == "mark":
        return "" if states[0] == "crossed_out" else "0" if states[0] == "empty" else "1"
    ticked = [o.value for o, s in zip(spec.options, states, strict=True) if s in MARKS]
    return ticked[0] if len(ticked) == 1 else ""
