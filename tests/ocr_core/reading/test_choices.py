"""Fields with a list of allowed values: decoding with one slip, shares, review, speed's shape."""

from __future__ import annotations

import pytest

from ocr_core.reading.choices import choose_value, listed_field
from ocr_core.results.records import CharReading, CharRow, FieldRow

TITLES = ("MR", "MRS", "MS", "MISS", "DR")
TOWNS = ("LEEDS", "LEICESTER", "ST ALBANS", "STOKE-ON-TRENT", "YORK", "BATH", "BRISTOL")


def read(text: str, sure: float = 0.9, second: str = "X") -> list[list[tuple[str, float]]]:
    """Readings of ``text``: each character at ``sure``, ``second`` next."""
    return [[(c, sure), (second, (1 - sure) / 2)] for c in text]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("MRS", "MRS"),  # read as written
        ("LEDS", "LEEDS"),  # a character not found (segmentation joined two)
        ("YORKK", "YORK"),  # a character read twice (segmentation split one)
        ("STALBANS", "ST ALBANS"),  # spaces and hyphens are not written in boxes
        ("STOKEONTRENT", "STOKE-ON-TRENT"),
        ("LEICCESTTER", "LEICESTER"),  # two slips: found, for a reviewer (see below)
    ],
)
def test_the_most_probable_allowed_value_with_one_slip(written: str, expected: str) -> None:
    choice = choose_value(read(written), TITLES + TOWNS)
    assert choice.value == expected and choice.near and choice.share > 0.5


def test_second_guesses_decide_between_values() -> None:
    # The middle character looks like S, but R came second: MRS and MS are both one away.
    readings = [[("M", 0.99)], [("S", 0.5), ("R", 0.45)], [("S", 0.99)]]
    choice = choose_value(readings, TITLES)
    assert choice.value == "MRS" and choice.misses == 0


def test_share_is_the_values_part_of_the_probability() -> None:
    sure = choose_value(read("BATH", 0.99), TOWNS)
    doubt = choose_value([[("M", 0.99)], [("R", 0.5), ("S", 0.45)]], TITLES)
    assert sure.share > 0.99
    assert doubt.value == "MR" and doubt.runner_up == "MS" and 0.4 < doubt.share < 0.7


def test_nothing_near_keeps_no_value() -> None:
    choice = choose_value(read("QQQQQQ"), TOWNS)
    assert not choice.near and choice.value == "" and choice.share == 0.0
    assert choose_value([], TOWNS).value == ""


def row(index: int, char: str, confidence: float, alt: str = "X") -> CharRow:
    reading = CharReading((char, alt), (confidence, 1 - confidence), confidence < 0.9)
    return CharRow.of(("d.pdf", 1, "town", index), reading, (0, 0, 1, 1), f"c{index}.png")


def field(value: str, status: str = "needs_review") -> FieldRow:
    return FieldRow("d.pdf", 1, "town", value, 0.5, status != "ok", status, "1 uncertain")  # type: ignore[arg-type]


def test_a_listed_field_takes_the_lists_value_and_settles_its_characters() -> None:
    rows = [row(0, "Y", 0.99), row(1, "O", 0.6, "0"), row(2, "R", 0.99), row(3, "K", 0.99)]
    out, chars = listed_field(field("YORK"), rows, TOWNS, 0.9)
    assert (out.value, out.status, out.needs_review) == ("YORK", "ok", False)
    assert out.confidence is not None and out.confidence > 0.9
    assert not any(c.needs_review for c in chars)  # the list settled the doubtful O


def test_a_settled_character_reads_as_the_lists_and_a_slip_keeps_the_crops_flags() -> None:
    rows = [row(0, "Y", 0.99), row(1, "0", 0.6, "O"), row(2, "R", 0.99), row(3, "K", 0.99)]
    out, chars = listed_field(field("Y0RK"), rows, TOWNS, 0.9)
    assert out.value == "YORK" and [c.char for c in chars] == list("YORK")
    assert chars[1].confidence == out.confidence and not chars[1].needs_review
    # LEDS: the list finds LEEDS, but four crops cannot be paired with five letters.
    rows = [row(0, "L", 0.99), row(1, "E", 0.99), row(2, "D", 0.7), row(3, "S", 0.99)]
    out, chars = listed_field(field("LEDS"), rows, TOWNS, 0.5)
    assert out.value == "LEEDS" and [c.char for c in chars] == list("LEDS")
    assert [c.needs_review for c in chars] == [False, False, True, False]


def test_a_field_near_no_value_keeps_its_reading_for_review() -> None:
    rows = [row(i, c, 0.99) for i, c in enumerate("QWERTY")]
    out, chars = listed_field(field("QWERTY", "ok"), rows, TOWNS, 0.9)
    assert out.value == "QWERTY" and out.status == "needs_review"
    assert "not near any allowed value" in out.reason and chars == rows


def test_a_doubtful_choice_goes_to_review_with_the_runner_up() -> None:
    rows = [row(0, "M", 0.99), row(1, "R", 0.5, "S")]
    out, _ = listed_field(field("MR"), rows, TITLES, 0.9)
    assert out.value == "MR" and out.status == "needs_review" and "'MS'" in out.reason


def test_two_slips_find_the_value_but_go_to_review() -> None:
    rows = [row(i, c, 0.99) for i, c in enumerate("LEICCESTTER")]
    out, _ = listed_field(field("LEICCESTTER", "ok"), rows, TOWNS, 0.9)
    assert out.value == "LEICESTER" and out.status == "needs_review"
    assert "2 character(s) off" in out.reason and "read 'LEICCESTTER'" in out.reason


def test_an_empty_field_stays_empty() -> None:
    empty = FieldRow("d.pdf", 1, "town", "", None, False, "empty", "no ink in the box")
    assert listed_field(empty, [], TOWNS, 0.9) == (empty, [])


def test_ten_thousand_values_are_scored_whole() -> None:
    names = tuple(f"TOWN{i:05d}" for i in range(0, 20_000, 2))  # even numbers only
    readings = read("TOWN04218", 0.8)
    readings[8] = [("9", 0.6), ("8", 0.3)]  # the 8 read as 9 first: TOWN04219 is not listed
    choice = choose_value(readings, names)
    assert choice.value == "TOWN04218" and choice.misses == 0
