"""Decoding a field by its format: the most probable reading its validators accept."""

from __future__ import annotations

import pytest

from ocr_core.reading.fields import Reading, decode_field, luhn_ok, uncertain_by_field

POSTCODE = {"regex": "^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$"}


def reads(*alternatives: str, best: float = 0.9) -> list[Reading]:
    """Readings where each string lists one character's alternatives, best first."""
    out = []
    for alts in alternatives:
        rest = (1.0 - best) / max(1, len(alts) - 1)
        out.append([(c, best if i == 0 else rest * 0.99) for i, c in enumerate(alts)])
    return out


def chosen(decoded: list[Reading] | None) -> str:
    assert decoded is not None
    return "".join(reading[0][0] for reading in decoded)


def test_a_letter_read_as_a_digit_is_read_as_the_letter_the_format_needs() -> None:
    readings = reads("M", "1", "1", "A", "0")  # "M11A0": a postcode ends in two letters
    readings[4] = [("0", 0.9999), ("D", 0.00009)]
    decoded = decode_field(readings, range(5), POSTCODE)
    assert chosen(decoded) == "M11AD"
    assert decoded is not None
    # Conditioned on the format, D is nearly certain: the 0 does not fit there (the 0.00001
    # left to unlisted characters counts as fitting).
    assert decoded[4][0] == ("D", pytest.approx(0.00009 / (0.00009 + 0.00001)))
    assert decoded[4][1] == ("0", 0.0)


def test_a_format_conditions_every_character_not_only_the_changed_ones() -> None:
    readings = reads("A", "B", "1", "2", "C", "D")
    readings[2] = [("1", 0.6), ("I", 0.39)]  # 1 or I? the format wants a digit after AB
    decoded = decode_field(readings, range(6), POSTCODE)
    assert chosen(decoded) == "AB12CD"
    assert decoded is not None and decoded[2][0][1] == pytest.approx(0.6 / 0.61)


def test_a_checksum_picks_a_close_second_but_not_a_long_shot() -> None:
    number = "79927398713"  # passes Luhn
    assert luhn_ok(number)
    misread = [[(c, 0.99)] for c in number]
    misread[4] = [("1", 0.55), ("7", 0.44)]  # the 7 was read as 1, a close call
    decoded = decode_field(misread, range(11), {"luhn": True})
    assert chosen(decoded) == number
    assert decoded is not None and decoded[4] == [("7", 0.44), ("1", 0.55)]  # no false certainty
    short = [[(c, 0.999), ("8", 0.001)] for c in "7992739"]  # written short: it fails Luhn
    assert decode_field(short, range(7), {"luhn": True}) is None  # left as read, to review


def test_no_rules_or_no_fitting_reading_changes_nothing() -> None:
    assert decode_field(reads("1", "2"), range(2), {}) is None
    assert decode_field(reads("12", "34"), range(2), {"regex": "^[A-Z]+$"}) is None


def test_gaps_between_characters_count_in_the_format() -> None:
    readings = reads("A", "1", "2", "B", "C")
    assert decode_field(readings, [0, 1, 2, 3, 4], {"regex": "^A[0-9]{2}BC$"}) is not None
    assert decode_field(readings, [0, 1, 3, 4, 5], {"regex": "^A[0-9]{2}BC$"}) is None


def test_the_field_as_a_whole_decides_review() -> None:
    # Three digits a little under the character threshold: together still 0.97 likely right.
    assert uncertain_by_field([0.99, 0.99, 0.99], [True, True, True], 0.95) == [False] * 3
    # Sixteen confident digits whose doubts add up: the field goes to review, and the least
    # confident character is the one shown, though none is under the character threshold.
    confidences = [0.998] * 16
    confidences[5] = 0.995
    flags = uncertain_by_field(confidences, [False] * 16, 0.97)
    assert flags == [i == 5 for i in range(16)]
    # Flagged: the characters' own flags stand.
    assert uncertain_by_field([0.6, 0.99, 0.9], [True, False, True], 0.9) == [True, False, True]


def test_without_a_field_threshold_each_character_decides() -> None:
    assert uncertain_by_field([0.99, 0.4], [False, True], None) == [False, True]
    assert uncertain_by_field([], [], 0.9) == []
