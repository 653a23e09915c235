"""Choose how to cut a box field into characters, from the classifier's scores of every candidate.

Segmentation proposes candidate characters over a field's atoms of ink
(``segmentation.records.Lattice``); the classifier scores each one; here the path through the
atoms is chosen whose characters are most probable together (Viterbi), and each chosen
character gets the posterior probability that it is part of the right cut (forward-backward
over every path). A cut that is itself in doubt therefore lowers its characters' confidence,
and the field goes to review; so does ink that it leaves out as noise but may be a character
(the probability that it is none goes to the characters beside it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ocr_core.recognition.charset import holds_letters
from segmentation.lattice import word_spaces
from segmentation.records import CharCrop, FieldCrops, Lattice

Reading = tuple[list[str], list[float]]
"""A character's top-k labels and their confidences, best first."""


@dataclass(frozen=True, slots=True)
class ChosenCut:
    """The chosen path through a lattice.

    Attributes:
        candidates: indices into ``lattice.candidates``, left to right.
        posteriors: per chosen candidate, the probability that it is one of the field's
            characters, over every way of cutting the field, times the probability that the
            ink left out beside it (atoms skipped as noise) is no character.
    """

    candidates: tuple[int, ...]
    posteriors: tuple[float, ...]


def choose_cut(lattice: Lattice, log_probs: np.ndarray) -> ChosenCut | None:
    """The most probable cut of a field into characters.

    Args:
        lattice: the field's atoms and candidate characters.
        log_probs: float (len(candidates),), each candidate's log-probability of being the
            character the classifier read it as (its calibrated top-1, under the charset).

    Returns:
        The chosen candidates with their posteriors, or None when no path covers the atoms.
    """
    n = lattice.atoms
    weights = np.asarray(log_probs, np.float64) + [c.prior for c in lattice.candidates]
    ending: list[list[int]] = [[] for _ in range(n + 1)]
    for k, cand in enumerate(lattice.candidates):
        ending[cand.stop].append(k)
    best = np.full(n + 1, -math.inf)
    back: list[int | None] = [None] * (n + 1)  # candidate ending here on the best path, or skip
    alpha = np.full(n + 1, -math.inf)
    best[0] = alpha[0] = 0.0
    for i in range(1, n + 1):
        options: list[tuple[float, int | None]] = [(best[i - 1] + lattice.skips[i - 1], None)]
        options += [(best[lattice.candidates[k].start] + weights[k], k) for k in ending[i]]
        best[i], back[i] = max(options, key=lambda o: o[0])
        terms = [alpha[i - 1] + lattice.skips[i - 1]]
        terms += [alpha[lattice.candidates[k].start] + weights[k] for k in ending[i]]
        alpha[i] = _logsumexp(terms)
    if best[n] == -math.inf:
        return None
    beta = _backward(lattice, weights)
    chosen: list[int] = []
    i = n
    while i > 0:
        step = back[i]
        if step is None:
            i -= 1
            continue
        chosen.append(step)
        i = lattice.candidates[step].start
    chosen.reverse()
    return ChosenCut(tuple(chosen), _posteriors(lattice, chosen, weights, alpha, beta))


def _posteriors(
    lattice: Lattice, chosen: list[int], weights: np.ndarray, alpha: np.ndarray, beta: np.ndarray
) -> tuple[float, ...]:
    """Each chosen candidate's posterior, as ``ChosenCut.posteriors`` defines it.

    ``alpha`` and ``beta``: per atom, the log-sum of the weights of every path up to it, and
    of every path from it to the end.
    """
    n = lattice.atoms
    total = alpha[n]
    posteriors = [
        _probability(
            alpha[lattice.candidates[k].start] + weights[k] + beta[lattice.candidates[k].stop],
            total,
        )
        for k in chosen
    ]
    # The ink the path leaves out as noise is a decision too. Gap c holds the atoms skipped
    # before chosen character c (the last gap, those after the last character); the
    # probability that each of them is no character goes to the characters on either side.
    starts = [lattice.candidates[k].start for k in chosen] + [n]
    stops = [0] + [lattice.candidates[k].stop for k in chosen]
    left_out = [
        math.prod(
            _probability(alpha[i] + lattice.skips[i] + beta[i + 1], total)
            for i in range(stop, start)
        )
        for stop, start in zip(stops, starts, strict=True)
    ]
    return tuple(p * left_out[c] * left_out[c + 1] for c, p in enumerate(posteriors))


def _probability(log_weight: float, log_total: float) -> float:
    """A path set's probability from its log-weight and the log-weight of every path."""
    return math.exp(min(0.0, log_weight - log_total))


def _backward(lattice: Lattice, weights: np.ndarray) -> np.ndarray:
    """Log-sum of the weights of every path from atom i to the end."""
    n = lattice.atoms
    starting: list[list[int]] = [[] for _ in range(n + 1)]
    for k, cand in enumerate(lattice.candidates):
        starting[cand.start].append(k)
    beta = np.full(n + 1, -math.inf)
    beta[n] = 0.0
    for i in range(n - 1, -1, -1):
        terms = [beta[i + 1] + lattice.skips[i]]
        terms += [beta[lattice.candidates[k].stop] + weights[k] for k in starting[i]]
        beta[i] = _logsumexp(terms)
    return beta


def _logsumexp(terms: list[float]) -> float:
    top = max(terms)
    if top == -math.inf:
        return -math.inf
    return top + math.log(sum(math.exp(t - top) for t in terms))


def one_character(
    fields: Sequence[FieldCrops], score: Callable[[np.ndarray], np.ndarray | None]
) -> dict[int, np.ndarray]:
    """Per lattice field (by position), P(one whole character) of each of its candidates.

    Every candidate of the page goes to ``score`` in one call (uint8 (N, 28, 28) images in,
    probabilities out, or None when there is no model for it: then the result is empty).
    """
    members = [
        (f, crops.lattice.candidates)
        for f, crops in enumerate(fields)
        if crops.lattice is not None and crops.lattice.candidates
    ]
    if not members:
        return {}
    one = score(np.stack([c.image for _, candidates in members for c in candidates]))
    if one is None:
        return {}
    bounds = np.cumsum([0] + [len(candidates) for _, candidates in members])
    return {f: one[bounds[i] : bounds[i + 1]] for i, (f, _) in enumerate(members)}


JUNK_THRESHOLD = 0.5
"""Under this P(one), the junk bundle judges a candidate not one character (its bundle's own
threshold, ``Recognisers.junk_threshold``, where the reader passes it)."""

UNREAD_BELOW = 1e-5
"""A candidate whose shape and junk verdict alone weigh it under this is not worth classifying.

Its weight in the lattice is its prior times P(one) times the classifier's probability, so
with the classifier's at most 1 it cannot outweigh the cuts that matter: the pair of two
character-high atoms side by side (prior about e^-5) that the junk bundle judges not one
character (P(one) about 1e-3) is the common case: a quarter of a real HSF page's candidates,
a third of a generated form's. At this bound, leaving them unread changes no cut.
"""


def worth_reading(
    lattice: Lattice, one: np.ndarray | None, junk_threshold: float = JUNK_THRESHOLD
) -> np.ndarray:
    """Per candidate (bool), whether the classifier's reading could matter to the cut.

    Without the junk bundle's verdicts (``one`` None) every candidate is.
    """
    if one is None:
        return np.ones(len(lattice.candidates), bool)
    prior = np.array([c.prior for c in lattice.candidates], np.float64)
    whole = np.maximum(_p_one(lattice, one, junk_threshold), 1e-12)
    return prior + np.log(whole) >= math.log(UNREAD_BELOW)


def best_cut(
    lattice: Lattice,
    top: np.ndarray,
    one: np.ndarray | None,
    junk_threshold: float = JUNK_THRESHOLD,
) -> tuple[int, ...] | None:
    """The candidates ``read_cut`` would choose, given each one's top probability ``top``.

    For checking a cut before every candidate is read: an unread candidate taken at
    probability 1 (the most it could be read with) that this cut leaves out stays out once
    read. None when no path covers the atoms.
    """
    cut, _ = _cut(lattice, top, one, junk_threshold)
    return None if cut is None else cut.candidates


def _cut(
    lattice: Lattice, top: np.ndarray, one: np.ndarray | None, junk_threshold: float
) -> tuple[ChosenCut | None, np.ndarray]:
    """The most probable cut, each candidate weighed by its top probability times P(one).

    Also returns each candidate's P(one) (``_p_one``).
    """
    whole = _p_one(lattice, one, junk_threshold)
    weights = np.maximum(np.asarray(top, np.float64), 1e-12) * np.maximum(whole, 1e-12)
    return choose_cut(lattice, np.log(weights)), whole


def _p_one(lattice: Lattice, one: np.ndarray | None, junk_threshold: float) -> np.ndarray:
    """Each candidate's P(one whole character): the junk bundle's, or 1 without its verdicts.

    Segmentation cuts a wide piece of ink tentatively (``Lattice.seams``): it may be two
    characters written into each other, or one wide one. Its slices read as characters too
    (half an 8 is a fine 3), so a candidate that starts or ends inside such a piece (a slice,
    or a slice with a neighbour) gets 0 unless the junk bundle judges the whole piece not one
    character (P(one) under ``junk_threshold``); without the junk bundle's verdicts, always.
    """
    p = np.ones(len(lattice.candidates)) if one is None else np.array(one, np.float64)
    if not lattice.seams:
        return p
    whole = {(c.start, c.stop): k for k, c in enumerate(lattice.candidates)}
    closed: set[int] = set()
    for first, last in _pieces(lattice.seams):
        k = whole.get((first - 1, last + 1))
        if one is None or k is None or p[k] >= junk_threshold:
            closed.update(range(first, last + 1))
    if closed:
        inside = [c.start in closed or c.stop in closed for c in lattice.candidates]
        p[np.asarray(inside)] = 0.0
    return p


def _pieces(seams: Sequence[int]) -> list[tuple[int, int]]:
    """Runs of consecutive seams (first, last): the inner boundaries of one cut piece each."""
    runs: list[tuple[int, int]] = []
    for seam in sorted(seams):
        if runs and seam == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], seam)
        else:
            runs.append((seam, seam))
    return runs


def read_cut(
    crops: FieldCrops,
    labels: np.ndarray,
    probs: np.ndarray,
    one: np.ndarray | None = None,
    junk_threshold: float = JUNK_THRESHOLD,
) -> tuple[FieldCrops, list[Reading]]:
    """Cut a field as its lattice's most probable path, and read each chosen character.

    Args:
        crops: the field, with a lattice.
        labels: (len(candidates), k) each candidate's top-k labels, best first.
        probs: (len(candidates), k) their calibrated probabilities.
        one: (len(candidates),) each candidate's probability of being one whole character
            (the junk bundle's), or None to weigh candidates by the classifier alone.
        junk_threshold: under it, the junk bundle judges a candidate not one character.

    Returns:
        The field with ``chars`` replaced by the chosen candidates, and each one's reading. A
        reading's confidences are the classifier's times the cut's posterior (times P(one)
        where that is under ``junk_threshold``), so a character whose cut is in doubt is in
        doubt. In a field that may hold letters, a space between words skips an index (a gap
        that may or may not be one sends the field to review: ``UNSURE_SPACE`` and the
        character it follows, in its ``doubt``). A field that no path covers is ``unreadable``; one
        whose cut holds more characters than it may keeps its reading, with the reason (the
        field goes to review).
    """
    lattice = crops.lattice
    if lattice is None:
        raise ValueError(f"field {crops.name} has no lattice")
    # The character read, and that it is one character at all (sure of that without the model).
    cut, whole = _cut(lattice, np.asarray(probs, np.float64)[:, 0], one, junk_threshold)
    if cut is None:
        reason = "its ink could not be cut into characters"
        return replace(crops, status="unreadable", reason=reason, chars=()), []
    indices, unsure = _word_indices(crops, cut.candidates)
    chars = tuple(
        CharCrop(i, lattice.candidates[k].image, lattice.candidates[k].box, "ok")
        for i, k in zip(indices, cut.candidates, strict=True)
    )
    # Sure of the cut is not sure of the character: a blob that the atoms cannot split (two
    # digits written into each other) is the only path, and the junk bundle's verdict that it
    # is not one character is then the only sign of it. Where it judges so (P(one) under
    # ``junk_threshold``), that doubt goes into the reading; its milder doubts, far less
    # certain on real pages than on ours, only weigh the cuts.
    doubt = np.where(whole < junk_threshold, whole, 1.0)
    readings = [
        ([str(x) for x in labels[k]], [float(p * posterior * doubt[k]) for p in probs[k]])
        for k, posterior in zip(cut.candidates, cut.posteriors, strict=True)
    ]
    reason = ""
    if lattice.max_chars and len(chars) > lattice.max_chars:
        reason = f"{len(chars)} characters found, the field holds at most {lattice.max_chars}"
    doubts = "; ".join(d for d in (crops.doubt, _unsure_gaps(unsure)) if d)
    return replace(crops, status="ok", reason=reason, chars=chars, doubt=doubts), readings


UNSURE_SPACE = "a gap between words or between letters?"


def _unsure_gaps(after: list[int]) -> str:
    """The doubt about unsure gaps, after the characters of these indices; "" for none.

    Characters are named as the review shows them: ``#index``, their place in the value.
    """
    if not after:
        return ""
    shown = ", ".join(f"#{i}" for i in after[:5])
    return (
        f"{UNSURE_SPACE} (after {shown}{f' and {len(after) - 5} more' if len(after) > 5 else ''})"
    )


def _word_indices(crops: FieldCrops, chosen: Sequence[int]) -> tuple[list[int], list[int]]:
    """The chosen characters' indices, and the indices of those an unsure gap follows.

    An index is left free for each space between words (``segmentation.lattice.word_spaces``),
    as an empty comb cell is: ``assemble_value`` reads it as a space, so a character's index
    is its place in the value. Only a field that may hold letters reads spaces: a number's
    gaps are not words.
    """
    assert crops.lattice is not None
    if not chosen or not holds_letters(crops.charset):
        return list(range(len(chosen))), []
    candidates = crops.lattice.candidates
    runs = [(candidates[k].start, candidates[k].stop) for k in chosen]
    indices = [0]
    unsure = []
    for space, sure in word_spaces(crops.lattice, runs):
        if not sure:
            unsure.append(indices[-1])
        indices.append(indices[-1] + 1 + space)
    return indices, unsure
