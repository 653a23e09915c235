"""Fields with a list of allowed values: the most probable value, one slipped character allowed.

Each character read carries its calibrated top-k. A value of the list is scored as the
probability that the characters read are it: the product over aligned characters of the
probability read for the value's character there (what the top-k leave is spread over the
other classes). A segmentation slip, one character read too many or one missed, is allowed
at a fixed cost. The field's confidence is the best value's share of the probability summed
over all values of the list; a list of 10,000 values is scored whole, by array operations,
so no pre-filter can drop the right value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from ocr_core.results.records import CharRow, FieldRow

SLIP = 0.02
"""Probability of a segmentation slip: one character read too many, or one not found."""
OTHER_CLASSES = 46
"""Classes the top-k leave out (the alnum bundle has 47), over which the rest is spread."""
REST_FLOOR = 1e-3
"""Least probability left to the classes a character's top-k leave out."""

Reading = Sequence[tuple[str, float]]  # one character's alternatives (character, probability)


@dataclass(frozen=True, slots=True)
class ListChoice:
    """The value of a list chosen for a field.

    Attributes:
        value: the list's value, as the list spells it; ``""`` when none is near enough.
        share: its share of the probability over all the list's values (0 when none near).
        near: whether it is within reach of the reading: at most one character and a third of
            the rest not among the read top-k, a slipped character counting one.
        misses: how many of its characters are not among the read top-k (a slip counts one);
            a value with more than one is never accepted without review.
        runner_up: the next most probable value (``""`` when the list has one).
    """

    value: str
    share: float
    near: bool
    misses: int
    runner_up: str


def choose_value(readings: Sequence[Reading], choices: tuple[str, ...]) -> ListChoice:
    """Choose the most probable value of ``choices`` given the characters read.

    Args:
        readings: per character read, left to right, its alternatives best first.
        choices: the allowed values (case and anything but letters and digits are ignored
            when comparing: ``St Albans`` is written ``STALBANS``).

    Returns:
        The chosen value and its share; ``value`` empty when no value is near enough.
    """
    index = _index(choices)
    n = len(readings)
    if n == 0 or not choices:
        return ListChoice("", 0.0, False, 0, "")
    logp, hit = _matrix(readings, index.alphabet)
    scores: list[np.ndarray] = []
    ids: list[np.ndarray] = []
    _add_scores(index, logp, (0, 1, -1), scores, ids)
    if not scores or _misses(hit, _best_code(index, scores, ids)) > 1:
        # Two slips are scored only for a field that goes to review anyway: the value a
        # reviewer is shown is then right more often, and a clean field stays fast.
        _add_scores(index, logp, (2, -2), scores, ids)
    if not scores:
        return ListChoice("", 0.0, False, 0, "")
    score, member = np.concatenate(scores), np.concatenate(ids)
    order = np.argpartition(-score, 1)[:2] if len(score) > 1 else np.array([0])
    order = order[np.argsort(-score[order])]
    top = float(score[order[0]])
    share = 1.0 / float(np.exp(score - top).sum())
    best = int(member[order[0]])
    runner = choices[int(member[order[1]])] if len(order) > 1 else ""
    key = index.keys[best]
    misses = _misses(hit, [index.alphabet[c] for c in key])
    near = misses <= 1 + len(key) // 3
    return ListChoice(choices[best] if near else "", share if near else 0.0, near, misses, runner)


def _add_scores(
    index: _Index, logp: np.ndarray, slips: tuple[int, ...], scores: list, ids: list
) -> None:
    """Score the values of the lengths these slips reach; append scores and value ids."""
    n = logp.shape[0]
    for slip in slips:
        codes, members = index.by_length.get(n - slip, (None, None))
        if codes is not None and members is not None:
            scores.append(_score(logp, codes, slip))
            ids.append(members)


def _best_code(index: _Index, scores: list, ids: list) -> list[int]:
    """The best value so far, as alphabet codes."""
    best = max(range(len(scores)), key=lambda k: float(scores[k].max()))
    key = index.keys[int(ids[best][int(scores[best].argmax())])]
    return [index.alphabet[c] for c in key]


def _score(logp: np.ndarray, codes: np.ndarray, slip: int) -> np.ndarray:
    """Log-probability of each value (codes: int (L, N), a column per value) given the readings.

    ``logp`` is float (n, A). ``slip`` 0: aligned one to one; 1 or 2: that many characters
    read too many (L = n - slip); -1 or -2: that many of the value's characters not read
    (L = n + 1 or n + 2). The slips' places are the most probable ones. Values run along the
    last axis, so every step is one vector operation.
    """
    n = logp.shape[0]
    if slip == 0:
        return logp[np.arange(n)[:, None], codes].sum(axis=0)
    # Aligned runs, each shifted one further by a slip: run k pairs value position p with
    # reading p + k (readings left out) or reading i with value position i + k (not read).
    if slip > 0:
        runs = [logp[np.arange(k, k + len(codes))[:, None], codes] for k in range(slip + 1)]
    else:
        runs = [logp[np.arange(n)[:, None], codes[k : k + n]] for k in range(1 - slip)]
    zero = np.zeros((1, codes.shape[1]), logp.dtype)
    prefix = [np.concatenate([zero, np.cumsum(run, axis=0)]) for run in runs]
    tail = np.concatenate([np.cumsum(runs[-1][::-1], axis=0)[::-1], zero])
    if len(runs) == 2:  # one gap g: run 0 before it, run 1 from it
        best = (prefix[0] + tail).max(axis=0)
    else:  # two gaps g1 <= g2: run 0 before g1, run 1 between, run 2 from g2
        lead = np.maximum.accumulate(prefix[0] - prefix[1], axis=0)
        best = (lead + prefix[1] + tail).max(axis=0)
    return best + abs(slip) * math.log(SLIP)


def _misses(hit: np.ndarray, code: list[int]) -> int:
    """Characters of a value not among the read top-k, each slip counting one, at best.

    An edit distance between the readings and the value, where a character costs nothing when
    it is among its reading's top-k.
    """
    n, length = hit.shape[0], len(code)
    row = list(range(length + 1))
    for i in range(1, n + 1):
        previous, row = row, [i] + [0] * length
        for j in range(1, length + 1):
            row[j] = min(
                previous[j - 1] + (not hit[i - 1, code[j - 1]]), previous[j] + 1, row[j - 1] + 1
            )
    return row[length]


def _matrix(readings: Sequence[Reading], alphabet: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Log-probabilities (float32 (n, |alphabet|)) of each character per reading, and hits.

    A character among a reading's alternatives has its probability (a hit); any other the
    share of what the alternatives leave, spread over the classes they leave out.
    """
    n, size = len(readings), len(alphabet)
    logp = np.empty((n, size), np.float32)
    hit = np.zeros((n, size), bool)
    for i, reading in enumerate(readings):
        rest = max(REST_FLOOR, 1.0 - sum(p for _, p in reading))
        logp[i] = math.log(rest / OTHER_CLASSES)
        listed: dict[int, float] = {}
        for char, prob in reading:  # "o" and "O" are one character here
            k = alphabet.get(_key(char))
            if k is not None and prob > 0:
                listed[k] = listed.get(k, 0.0) + prob
        for k, prob in listed.items():
            hit[i, k] = True
            logp[i, k] = math.log(prob)
    return logp, hit


@dataclass(frozen=True, slots=True)
class _Index:
    """A list prepared for scoring: its characters, and its values grouped by length."""

    alphabet: dict[str, int]
    keys: list[str]  # each value as compared: capitals and digits only
    by_length: dict[int, tuple[np.ndarray, np.ndarray]]  # length -> (codes (L, N), value ids)


@lru_cache(maxsize=32)
def _index(choices: tuple[str, ...]) -> _Index:
    keys = ["".join(_key(c) for c in value if c.isalnum()) for value in choices]
    alphabet = {c: k for k, c in enumerate(sorted({c for key in keys for c in key}))}
    groups: dict[int, list[int]] = {}
    for i, key in enumerate(keys):
        if key:
            groups.setdefault(len(key), []).append(i)
    by_length = {
        length: (
            np.ascontiguousarray(np.array([[alphabet[c] for c in keys[i]] for i in ids]).T),
            np.array(ids, np.intp),
        )
        for length, ids in groups.items()
    }
    return _Index(alphabet, keys, by_length)


def _key(char: str) -> str:
    return char.upper()


def listed_field(
    field: FieldRow, rows: Sequence[CharRow], choices: tuple[str, ...], threshold: float
) -> tuple[FieldRow, list[CharRow]]:
    """A field with a list of allowed values, read as the list's most probable value.

    Args:
        field: the field as read character by character.
        rows: its characters, left to right, each with its top-3.
        choices: the allowed values.
        threshold: a value whose share is under this goes to review.

    Returns:
        The field row: the list's value with its share as confidence (``ok`` at or over
        ``threshold``); under it, the value and why (the runner-up) for review; with no value
        near enough, the raw reading kept for review. And the character rows, which need
        review exactly when their field does (the list may settle an uncertain character).
    """
    if not rows or field.status in ("unreadable", "empty"):
        return field, list(rows)
    readings = [row_alternatives(r) for r in sorted(rows, key=lambda r: r.index)]
    choice = choose_value(readings, choices)
    if not choice.near:
        reason = f"{field.value!r} is not near any allowed value"
        row = replace(
            field,
            needs_review=True,
            status="needs_review",
            reason="; ".join(r for r in (field.reason, reason) if r),
        )
        return row, list(rows)
    sure = choice.share >= threshold and choice.misses <= 1
    reason = (
        ""
        if sure
        else (
            f"list: {choice.value!r} ({choice.share:.0%}, {choice.misses} character(s) off, "
            f"read {field.value!r}) or {choice.runner_up!r}"
        )
    )
    row = replace(
        field,
        value=choice.value,
        confidence=round(choice.share, 4),
        needs_review=not sure,
        status="ok" if sure else "needs_review",
        reason=reason,
    )
    return row, _listed_rows(rows, choice.value, choice.share) if sure else list(rows)


def _listed_rows(rows: Sequence[CharRow], value: str, share: float) -> list[CharRow]:
    """The characters of a field settled by its list: each reads as the value's character.

    When the value pairs one-to-one with the crops, a crop the list settled reads as its
    character of the value, with the value's share as confidence, and needs no review. After a
    slip (a character more or less than the crops) the crops cannot be paired with the value:
    they keep their own readings and flags, so no crop carries a confident character it may
    not show.
    """
    written = "".join(_key(c) for c in value if c.isalnum())  # as in boxes: St Albans, STALBANS
    if len(written) != len(rows):
        return list(rows)
    ordered = sorted(rows, key=lambda r: r.index)
    listed = {r.index: char for r, char in zip(ordered, written, strict=True)}
    return [
        replace(r, needs_review=False)
        if _key(r.char) == listed[r.index]
        else replace(r, char=listed[r.index], confidence=round(share, 4), needs_review=False)
        for r in rows
    ]


def row_alternatives(row: CharRow) -> list[tuple[str, float]]:
    """A character row's top-3 readings with their confidences (empty ones left out)."""
    pairs = [(row.char, row.confidence), (row.alt1, row.alt1_confidence)]
    pairs.append((row.alt2, row.alt2_confidence))
    return [(a, p) for a, p in pairs if a and p > 0]
