"""Pair the characters the pipeline cut with the characters written on a synthetic form."""

from __future__ import annotations

from collections.abc import Sequence

from segmentation.records import Box, FieldCrops, box_iou


def match_boxes(
    boxes: Sequence[Box | list[int]], indices: Sequence[int], truth: list[dict], comb: bool
) -> list[tuple[int, str]]:
    """Pair characters read with the characters written, by box overlap (IoU >= 0.3).

    Args:
        boxes: each character read, its box in the scan.
        indices: each character read, its index in the field (its cell in a comb).
        truth: the field's written characters (``char``, ``index``, ``box`` in the scan).
        comb: True when a character read pairs only with the one written in its own cell.

    Returns:
        (position in ``boxes``, true character) per written character found; each written
        character takes the free box it overlaps most.
    """
    used: set[int] = set()
    pairs = []
    for char in truth:
        best, best_iou = -1, 0.3
        for i, box in enumerate(boxes):
            if i in used or (comb and indices[i] != char["index"]):
                continue
            overlap = box_iou(box, char["box"])
            if overlap >= best_iou:
                best, best_iou = i, overlap
        if best >= 0:
            used.add(best)
            pairs.append((best, char["char"]))
    return pairs


def match_crops(found: FieldCrops, truth: dict) -> list[tuple[int, str]]:
    """Pair a field's ``ok`` crops with the characters written (``match_boxes``).

    Returns:
        (crop's position among the field's ``ok`` crops, true character) per character found.
    """
    crops = [c for c in found.chars if c.status == "ok"]
    boxes, indices = [c.box for c in crops], [c.index for c in crops]
    return match_boxes(boxes, indices, truth["chars"], found.kind == "comb")
