"""Candidate cuts of a box field: over-cut its ink into atoms, propose runs of atoms as characters.

Geometry alone cannot tell a 5 whose bar was written apart from a 5 and a 1, or two digits
that touch from a wide 0. So segmentation does not decide: it cuts the ink into atoms (the
pieces of ink, wide ones split where a cut is plausible) and proposes every run of up to
MAX_SPAN neighbouring atoms that is shaped like one character, each with a prior from its
shape. The reader classifies every candidate of a page in one batch and chooses the path
through the atoms whose characters are most probable together (``ocr_core.reading.lattice``).

A piece still wider than the writing is tall after the sure splits is cut once more, only
tentatively, into slices (``Lattice.seams``): two digits written into each other, or a
character with its neighbour's stroke run into it. The piece whole stays a candidate, and the
reader weighs its slices only where it judges the whole not one character.

Each atom's columns are kept too, in character heights (``Lattice.extents``): once the reader
has chosen its characters, a wide gap between two of them is a space between words
(``word_spaces``).
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Callable, Sequence

from segmentation.boxes import SHORT, maybe_touching, split_touching
from segmentation.ink import Blob
from segmentation.records import Candidate, CharCrop, Lattice

MAX_SPAN = 3  # atoms one character may be made of (a 5 with its bar apart, a broken 8 or E)
MAX_ATOMS = 120  # a field cut finer than this is scribble; the lattice is then not offered
GAP_COST = 5.0  # log-weight against joining two character-high atoms that lie side by side
LETTER_GAP = 0.6
"""A gap between two characters narrower than this many character heights is inside a word.
(Generated forms' letters, written up to touching or wide apart: 99.9% of gaps under 0.83.
Real print writing spaces its letters up to about 0.75, and its words from about 0.6.)"""
WORD_GAP = 1.0
"""...and one at least this wide is between words. A gap between the two is unsure: it reads
as a space from SPACE_GAP on (or from the writer's own, under it: ``space_gap``, which also
makes the gaps from there unsure), and the field goes to review either way."""
SPACE_GAP = 0.8
TIGHTEST_SPACE = 0.45
"""A writer who spaces their letters tightly spaces their words tightly too. In a field of
MEASURED_GAPS gaps or more that part into narrow ones and wide ones, a gap reads as a space
from where they part (``space_gap``), if that is under SPACE_GAP, but never under this. (The
three NIST pages: letter gaps reach 0.34, 0.49 and 0.66 heights; word gaps begin at 0.6 or
under. Their alphabets, written without spaces, have gaps up to 0.76 that part in no two
groups.)"""
MEASURED_GAPS = 12
WORDS_APART = 0.5  # the wide gaps' mean is at least this much over the narrow ones'...
WIDE_SHARE = 0.4  # ...and they are at most this share of all gaps: words, not letters


def build_lattice(
    pieces: list[Blob],
    max_chars: int,
    tall: float,
    frame: Callable[[Sequence[Blob]], list[CharCrop]],
) -> Lattice | None:
    """Over-cut a box field's ink into atoms and propose character candidates over them.

    Args:
        pieces: the field's connected pieces of ink.
        max_chars: the most characters the field holds.
        tall: the writing's character height in pixels, measured from the ink.
        frame: frames blobs of the field window as model inputs (``ink.Framer.crops``).

    Returns:
        The lattice, or None when there is no ink, too much of it to cut, or no candidate.
    """
    atoms, seams = _over_cut(pieces, tall)
    if not atoms or len(atoms) > MAX_ATOMS:
        return None
    spans = [a.span for a in atoms]
    heights = [a.height for a in atoms]
    runs: list[tuple[int, int, float]] = []  # (start, stop, prior) of each candidate
    for start in range(len(atoms)):
        for stop in range(start + 1, min(len(atoms), start + MAX_SPAN) + 1):
            run = _joined(spans, heights, seams, start, stop)
            prior = _prior([s for s, _ in run], [h for _, h in run], tall)
            if prior == -math.inf:
                break
            sliced = start in seams or start + 1 in seams
            if stop == start + 1 and sliced and heights[start] < SHORT * tall:
                prior -= 3.0  # a slice cut off as a neighbour's stroke is no character alone
            runs.append((start, stop, prior))
    crops = frame([atoms[start].join(*atoms[start + 1 : stop]) for start, stop, _ in runs])
    candidates = tuple(
        Candidate(start, stop, crop.image, crop.box, prior)
        for (start, stop, prior), crop in zip(runs, crops, strict=True)
        if crop.status == "ok"
    )
    if not candidates:
        return None
    skips = tuple(_skip(a, tall) for a in atoms)
    extents = tuple((a.span[0] / tall, a.span[1] / tall) for a in atoms)
    return Lattice(len(atoms), candidates, skips, max_chars, tuple(sorted(seams)), extents)


def word_spaces(lattice: Lattice, runs: Sequence[tuple[int, int]]) -> list[tuple[bool, bool]]:
    """Whether a space between words comes before each chosen character, and whether surely.

    Args:
        lattice: the field's lattice (without ``extents``, no character has a space before it).
        runs: the chosen characters' atoms, ``(start, stop)`` each, left to right.

    Returns:
        ``(space, sure)`` per character after the first. A new line of writing begins a new
        word; otherwise the gap between the two characters' ink decides: a space from
        ``space_gap`` of the field's gaps on, surely under LETTER_GAP (or that, if narrower)
        and from WORD_GAP.
    """
    if not lattice.extents:
        return [(False, True)] * max(0, len(runs) - 1)
    gaps: list[float | None] = []  # None: a new line begins
    for (start0, stop0), (start1, stop1) in itertools.pairwise(runs):
        if any(stop0 <= line <= start1 for line in lattice.lines):
            gaps.append(None)
        else:
            left = min(x0 for x0, _ in lattice.extents[start1:stop1])
            gaps.append(left - max(x1 for _, x1 in lattice.extents[start0:stop0]))
    space = space_gap([g for g in gaps if g is not None])
    unsure_from = min(space, LETTER_GAP)
    return [
        (True, True) if gap is None else (gap >= space, not unsure_from <= gap < WORD_GAP)
        for gap in gaps
    ]


def space_gap(gaps: Sequence[float]) -> float:
    """The narrowest gap (in character heights) that reads as a space between these words.

    SPACE_GAP, or less for a writer whose gaps, once there are MEASURED_GAPS of them, part
    into narrow ones (between letters) and fewer wide ones (between words) below it. They part
    where Otsu's cut does (the one with most variance between the two groups), and only where
    the groups' means lie WORDS_APART apart and the wide ones are at most WIDE_SHARE of all:
    letters spaced unevenly, with no words among them, part into no such groups. The cut is
    moved out to two standard deviations over the narrow gaps' mean, so that a writer's widest
    letter gaps stay letters, and is never under TIGHTEST_SPACE.
    """
    if len(gaps) < MEASURED_GAPS:
        return SPACE_GAP
    ordered = sorted(gaps)
    count, total = len(ordered), sum(ordered)
    best, parted, below = -1.0, 0, 0.0
    for n in range(1, count):
        below += ordered[n - 1]
        between = n * (count - n) * ((total - below) / (count - n) - below / n) ** 2
        if between > best:
            best, parted = between, n
    narrow, wide = ordered[:parted], ordered[parted:]
    if statistics.fmean(wide) - statistics.fmean(narrow) < WORDS_APART:
        return SPACE_GAP
    if len(wide) > WIDE_SHARE * count:
        return SPACE_GAP
    cut = max((narrow[-1] + wide[0]) / 2, statistics.fmean(narrow) + 2 * statistics.pstdev(narrow))
    return min(SPACE_GAP, max(TIGHTEST_SPACE, cut))


def _over_cut(pieces: list[Blob], tall: float) -> tuple[list[Blob], set[int]]:
    """The field's atoms, left to right, and the seams between the slices of a tentative cut.

    Pieces are split where they surely hold touching characters (``split_touching``); an atom
    that then may still hold more than one is cut into slices, tentatively (``maybe_touching``).
    A seam is the position of every slice after a piece's first.
    """
    firm = split_touching(pieces, tall)  # wide pieces split where two characters surely meet
    firm.sort(key=lambda a: (a.span[0] + a.span[1]) / 2)
    atoms: list[Blob] = []
    seams: set[int] = set()
    for atom in firm:
        slices = maybe_touching(atom, tall)
        if slices is None:
            atoms.append(atom)
            continue
        seams.update(range(len(atoms) + 1, len(atoms) + len(slices)))
        atoms += slices
    return atoms, seams


def _joined(
    spans: list[tuple[int, int]], heights: list[int], seams: set[int], start: int, stop: int
) -> list[tuple[tuple[int, int], int]]:
    """The spans and heights of atoms ``start:stop``, slices across a seam joined as one."""
    run = [(spans[start], heights[start])]
    for i in range(start + 1, stop):
        if i in seams:  # a later slice of the piece that the last one is a slice of
            (a, b), h = run[-1]
            run[-1] = ((min(a, spans[i][0]), max(b, spans[i][1])), max(h, heights[i]))
        else:
            run.append((spans[i], heights[i]))
    return run


def _prior(spans: list[tuple[int, int]], heights: list[int], tall: float) -> float:
    """Log-weight of a run of atoms as one character, from its shape alone.

    Two character-high atoms side by side are two characters (GAP_COST against joining
    them); a short atom (a 5's bar, the loop of a broken 8) joins a neighbour freely when it
    is close. Too wide for one character weighs a run down, far too wide ends it (``-inf``);
    a short atom alone is unlikely to be a character.
    """
    a = min(s[0] for s in spans)
    b = max(s[1] for s in spans)
    width = (b - a) / tall
    if len(spans) > 1 and width > 2.0:
        return -math.inf
    prior = -4.0 * max(0.0, width - 1.3)
    order = sorted(range(len(spans)), key=lambda i: spans[i])
    last = order[0]  # the atom reaching furthest right so far
    for i in order[1:]:
        (a0, b0), (a1, b1) = spans[last], spans[i]
        gap = (a1 - b0) / tall
        overlap = (min(b0, b1) - max(a0, a1)) / max(1, min(b0 - a0, b1 - a1))
        both_tall = min(heights[last], heights[i]) >= 0.5 * tall
        if both_tall and overlap < 0.5:
            prior -= GAP_COST + 10.0 * max(0.0, gap)
        else:
            prior -= 10.0 * max(0.0, gap - 0.1)
        if b1 > b0:
            last = i
    if len(spans) == 1 and heights[0] < 0.35 * tall:
        prior -= 3.0  # too short to be a character on its own: a bar, a tail, a crumb
    return prior


def _skip(atom: Blob, tall: float) -> float:
    """Log-weight of leaving an atom out as noise: easy for a speck, impossible for a stroke."""
    size = max(atom.height, atom.width) / tall
    if size < 0.2:
        return -0.5
    if size < 0.4:
        return -4.0
    return -math.inf
