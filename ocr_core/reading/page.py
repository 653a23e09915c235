"""Read a segmented page: classify its characters and candidate cuts in batches, cut, decode.

Box fields come with a lattice of candidate cuts (``segmentation.records.Lattice``), about two
candidates for every character written. The junk bundle judges them all first (a sixth of the
classifier's work an image); a candidate whose shape and that judgement already weigh it under
``lattice.UNREAD_BELOW`` is left unread by the classifier, since no reading could make it part
of a cut worth choosing. Where a field's best cut, with its unread candidates taken at the
most they could be read with, still runs through some, those are read and the cut is taken
again (a few more model calls a page, of a few images each). So the cut chosen is the one that
reading every candidate would choose. About a quarter of a real page's candidates go unread.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from ocr_core.reading.fields import decode_field, rules_of
from ocr_core.reading.lattice import best_cut, one_character, read_cut, worth_reading
from ocr_core.reading.recognisers import Recognisers
from ocr_core.results.records import CharReading
from segmentation.records import FieldCrops, PageResult

MAX_PASSES = 4  # model calls per charset that read unread candidates, the last reading them all
Readings = dict[tuple[int, int], CharReading]  # (field position, crop position) -> reading
Scores = dict[int, list[tuple[np.ndarray, np.ndarray] | None]]
"""Per lattice field, per candidate: its top labels and probabilities, or None while unread."""


def read_page(result: PageResult, recognisers: Recognisers) -> tuple[PageResult, Readings]:
    """Classify every readable character of a segmented page, and decode fields by format.

    Box fields that come with a lattice of candidate cuts are cut here: the candidates of the
    page are classified with the rest (one model call per charset, and a few more where a
    field's best cut runs through candidates left unread), and each field takes its most
    probable cut (``ocr_core.reading.lattice``).

    Args:
        result: the page as segmented (status ``ok``).
        recognisers: the loaded model bundles.

    Returns:
        The page with each lattice field's characters as cut, and (field position, crop
        position) to the character's reading: its top-3 labels and probabilities, best
        first, and whether it needs review.
    """
    fields = list(result.fields)
    one = one_character(fields, recognisers.one_character)
    wanted = {
        f: worth_reading(crops.lattice, one.get(f), recognisers.junk_threshold)
        for f, crops in enumerate(fields)
        if crops.lattice is not None
    }
    scores: Scores = {f: [None] * len(w) for f, w in wanted.items()}
    readings = _classify(fields, recognisers, wanted, scores, others=True)
    for attempt in range(MAX_PASSES):
        again = {
            f: _unread_on_cut(
                fields[f],
                scores[f],
                one.get(f),
                recognisers.junk_threshold,
                whole=attempt == MAX_PASSES - 1,
            )
            for f in scores
        }
        again = {f: mask for f, mask in again.items() if mask.any()}
        if not again:
            break
        _classify(fields, recognisers, again, scores)
    for f, per_candidate in scores.items():
        labels, probs = _filled(per_candidate)
        fields[f], cut = read_cut(fields[f], labels, probs, one.get(f), recognisers.junk_threshold)
        threshold = recognisers.threshold_for(fields[f].charset)
        for c, (top, confidence) in enumerate(cut):
            readings[(f, c)] = CharReading(
                labels=tuple(top), probs=tuple(confidence), needs_review=confidence[0] < threshold
            )
    result = replace(result, fields=tuple(fields))
    for f, crops in enumerate(result.fields):
        _decode(f, crops, readings, recognisers.threshold_for(crops.charset))
    return result, readings


def _classify(
    fields: Sequence[FieldCrops],
    recognisers: Recognisers,
    candidates: Mapping[int, np.ndarray],
    scores: Scores,
    others: bool = False,
) -> Readings:
    """Classify, one model call per charset, the chosen candidates of lattice fields.

    ``candidates`` maps a lattice field to a mask of the candidates to read; their readings go
    into ``scores``. With ``others``, the characters of the fields without a lattice are read
    too, and returned.
    """
    # A member is (field, candidate) of a lattice field, or (field, crop) of any other.
    groups: dict[str, list[tuple[int, int, np.ndarray]]] = defaultdict(list)
    for f, crops in enumerate(fields):
        if crops.lattice is not None:
            if f in candidates:
                groups[crops.charset] += [
                    (f, k, c.image)
                    for k, c in enumerate(crops.lattice.candidates)
                    if candidates[f][k]
                ]
        elif others:
            groups[crops.charset] += [
                (f, c, char.image) for c, char in enumerate(crops.chars) if char.status == "ok"
            ]
    readings: Readings = {}
    for charset, members in groups.items():
        if not members:
            continue
        pred = recognisers.classify(np.stack([image for *_, image in members]), charset)
        for i, (f, c, _) in enumerate(members):
            if f in scores:
                scores[f][c] = (pred.labels[i], pred.probs[i])
                continue
            readings[(f, c)] = CharReading(
                labels=tuple(str(s) for s in pred.labels[i]),
                probs=tuple(float(p) for p in pred.probs[i]),
                needs_review=bool(pred.needs_review[i]),
            )
    return readings


def _unread_on_cut(
    crops: FieldCrops,
    scores: list[tuple[np.ndarray, np.ndarray] | None],
    one: np.ndarray | None,
    junk_threshold: float,
    whole: bool,
) -> np.ndarray:
    """The unread candidates to read next (bool mask): those on the field's best cut.

    The best cut is taken with every unread candidate read at probability 1, the most it
    could be. When it runs through none, it is the cut that reading them all would choose,
    and nothing is left to read. ``whole``: read every unread candidate of a field whose cut
    runs through one (the last pass).
    """
    unread = np.array([s is None for s in scores])
    if not unread.any():
        return unread
    assert crops.lattice is not None
    chosen = best_cut(crops.lattice, _filled(scores)[1][:, 0], one, junk_threshold)
    if chosen is None:
        return unread
    on_cut = np.zeros_like(unread)
    on_cut[list(chosen)] = True
    on_cut &= unread
    return unread if whole and on_cut.any() else on_cut


def _filled(scores: list[tuple[np.ndarray, np.ndarray] | None]) -> tuple[np.ndarray, np.ndarray]:
    """Every candidate's top labels and probabilities, the unread at probability 1, unlabelled.

    That is the most an unread candidate could be read with; the field's cut does not run
    through one (``_unread_on_cut``), so it only weighs the other ways of cutting it, as
    heavily as they could weigh. That moves the chosen characters' posteriors a little,
    nearly always down: more doubt, never a different cut.
    """
    known = next((s for s in scores if s is not None), None)
    if known is None:  # none read: the cut leaves every atom out as specks
        return np.full((len(scores), 1), ""), np.ones((len(scores), 1))
    unread = (np.full_like(known[0], ""), np.zeros_like(known[1]))
    unread[1][0] = 1.0
    rows = [unread if s is None else s for s in scores]
    return np.array([labels for labels, _ in rows]), np.array([probs for _, probs in rows])


def _decode(
    f: int,
    crops: FieldCrops,
    readings: Readings,
    threshold: float,
) -> None:
    """Re-read a field with validators as the most probable reading they accept, in place."""
    read = [c for c in range(len(crops.chars)) if (f, c) in readings]
    rules = rules_of(crops)
    if not rules or not read:
        return
    alternatives = [readings[(f, c)].alternatives() for c in read]
    decoded = decode_field(alternatives, [crops.chars[c].index for c in read], rules)
    if decoded is None:
        return
    for c, reading in zip(read, decoded, strict=True):
        probs = tuple(p for _, p in reading)
        readings[(f, c)] = CharReading(tuple(a for a, _ in reading), probs, probs[0] < threshold)
