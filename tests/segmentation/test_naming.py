"""Names, charsets and validators proposed from printed labels."""

from __future__ import annotations

import pytest

from segmentation.draft.naming import UK_POSTCODE, propose, propose_one
from segmentation.records import FieldSpec


def _comb(cells: int) -> FieldSpec:
    boxes = tuple((100 * k, 0, 100 * k + 100, 110) for k in range(cells))
    return FieldSpec("", "comb", "", (0, 0, 100 * cells, 110), boxes, cells)


BOX = FieldSpec("", "box", "", (0, 0, 1200, 130), (), 18)


@pytest.mark.parametrize(
    ("label", "field", "name", "charset", "validate"),
    [
        ("Date of birth (DDMMYYYY)", _comb(8), "date_of_birth", "digits", {"date": "%d%m%Y"}),
        ("Date of birth DD/MM/YY", _comb(6), "date_of_birth", "digits", {"date": "%d%m%y"}),
        ("Moving date DDMMYVYY (digits)", _comb(8), "moving_date", "digits", {"date": "%d%m%Y"}),
        ("Date of birth DDDMMYYYY", _comb(8), "date_of_birth", "digits", {"date": "%d%m%Y"}),
        ("Postcode", _comb(7), "postcode", "alnum", {"regex": UK_POSTCODE}),
        ("Surname", BOX, "surname", "upper", {}),
        ("First name", BOX, "first_name", "upper", {}),
        ("Telephone", _comb(11), "telephone", "digits", {}),
        ("House number", _comb(4), "house_number", "digits", {}),
        ("Card number (digits)", _comb(16), "card_number", "digits", {"luhn": True}),
        ("Initials (upper)", _comb(3), "initials", "upper", {}),
        ("City, state, zip", BOX, "city_state_zip", "alnum", {}),
        ("Date", BOX, "date", "alnum", {}),
        ("Favourite colour", BOX, "favourite_colour", "alnum", {}),
        ("0123456789", BOX, "field_05", "digits", {}),
        ("rueqdcphbziwajomgfklxtyvsn", BOX, "field_05", "lower", {}),
        ("", BOX, "field_05", "alnum", {}),
    ],
)
def test_label_table(label: str, field: FieldSpec, name: str, charset: str, validate: dict) -> None:
    proposal = propose_one(field, label, 5)
    assert (proposal.name, proposal.charset, proposal.validate) == (name, charset, validate)
    assert "(" not in proposal.label or "DD" in proposal.label


def test_guesses_say_so_and_names_are_unique() -> None:
    proposals = propose([BOX, BOX, BOX], ["Favourite colour", "Notes", "Notes"])
    assert [p.name for p in proposals] == ["favourite_colour", "notes", "notes_2"]
    assert "no charset evident" in proposals[0].note
