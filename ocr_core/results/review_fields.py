"""``review_fields.csv``: one row per field a person should look at, to correct as a whole."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from ocr_core.results.records import FieldRow, rules_key

# The first eight are the reviewer's sheet; ``correction`` takes the field's right value, of any
# length. ``confirmed`` (yes) accepts the value as read, ``unreadable`` (yes) says the paper
# itself cannot be read; ``reviewer`` and ``reviewed_at`` say who answered, and when.
REVIEW_FIELD_COLUMNS: Final = (
    "document",
    "page",
    "field",
    "value",
    "confidence",
    "reason",
    "image",
    "correction",
    "confirmed",
    "unreadable",
    "reviewer",
    "reviewed_at",
)


def review_field_rows(
    fields: Sequence[FieldRow], images: Mapping[str, str]
) -> list[dict[str, object]]:
    """The rows of ``review_fields.csv``: every field of a page that needs review, unanswered.

    Args:
        fields: the run's fields (a page-level row, with no field name, is left out).
        images: ``document|page|field`` -> the field's image, run-relative (``run.json``).
    """
    return [
        field_review_row(f, images.get(rules_key(f.key), ""))
        for f in fields
        if f.needs_review and f.field
    ]


def field_review_row(field: FieldRow, image: str, reason: str = "") -> dict[str, object]:
    """One unanswered ``review_fields.csv`` row for ``field``; ``reason`` overrides its own."""
    return {
        "document": field.document,
        "page": field.page,
        "field": field.field,
        "value": field.value,
        "confidence": field.confidence,
        "reason": reason or field.reason,
        "image": image,
        "correction": "",
        "confirmed": "",
        "unreadable": "",
        "reviewer": "",
        "reviewed_at": "",
    }
