"""The real-forms benchmark's scoring on a tiny made-up reference and reading."""

from __future__ import annotations

import math
from pathlib import Path

import cv2

from benchmarks.montage import read_gray, write_montage
from benchmarks.real_forms import (
    ROOT,
    added_per_page,
    edit_distance,
    field_kind,
    parse_fields,
    read_fields_csv,
    score,
)
from benchmarks.text_scores import Spaces, count_spaces

REF = (
    "hsf_0\nhsf_1\nhsf_2 \n"
    + """hsf_3 0123456789
hsf_6 86
hsf_7 506
hsf_31 abc
hsf_32 ABC
hsf_33 We the People
"""
)


def test_parse_fields_keeps_empty_references() -> None:
    fields = parse_fields(REF)
    assert fields["hsf_0"] == fields["hsf_2"] == ""
    assert fields["hsf_3"] == "0123456789" and fields["hsf_33"] == "We the People"
    assert len(fields) == 9


def test_edit_distance() -> None:
    assert edit_distance("", "") == 0
    assert edit_distance("506", "506") == 0
    assert edit_distance("506", "56") == 1  # a character lost
    assert edit_distance("86", "8b6") == 1  # one extra
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "12") == edit_distance("12", "") == 2


def test_a_space_read_counts_where_it_stands_between_the_right_words() -> None:
    assert count_spaces("We the People", "WE THE PEOPLE") == Spaces(2, 2, 2)
    assert count_spaces("We the People", "We  thePeople ") == Spaces(2, 1, 1)
    # Misread words keep their spaces; a space inside a word is not one between words.
    assert count_spaces("We the People", "WO TKE PE OPLE") == Spaces(2, 3, 2)
    assert count_spaces("ABC", "A BC") == Spaces(0, 1, 0)
    assert count_spaces("", "") == Spaces(0, 0, 0)


def test_field_kinds() -> None:
    assert [field_kind(f"hsf_{n}") for n in (0, 2, 3, 30, 31, 32, 33)] == [
        None,
        None,
        "digits",
        "digits",
        "lowercase",
        "uppercase",
        "preamble",
    ]


def test_score_tallies_by_kind_and_flags() -> None:
    refs = {"p1": parse_fields(REF)}
    reads = {
        "p1": {
            "hsf_0": ("SMITH", True),  # no reference: not scored
            "hsf_3": ("0123456789", False),  # exact, not flagged
            "hsf_6": ("85", True),  # one substitution, flagged
            "hsf_7": ("56", False),  # one lost, not flagged: a confident wrong field
            "hsf_31": ("abd", True),
            # hsf_32 missing: read as empty
            "hsf_33": ("WETHE PEOPLE", True),  # case and spaces ignored for the preamble
        }
    }
    tallies = score(refs, reads)
    digits = tallies["digits"]
    assert (digits.fields, digits.exact, digits.ref_chars, digits.distance) == (3, 1, 15, 2)
    assert math.isclose(digits.accuracy(), 1 - 2 / 15)
    assert digits.right_length == 2 and digits.flagged == 1 and digits.unflagged_exact == 1
    assert [w[1] for w in digits.wrong] == ["hsf_6", "hsf_7"]
    assert tallies["uppercase"].distance == 3 and tallies["uppercase"].exact == 0
    assert tallies["lowercase"].distance == 1
    preamble = tallies["preamble"]
    assert preamble.exact == 1 and preamble.ref_chars == len("WETHEPEOPLE")
    # Its spaces are scored apart: "We the People" has two, "WETHE PEOPLE" reads one of them.
    assert (preamble.spaces_ref, preamble.spaces_read, preamble.spaces_right) == (2, 1, 1)
    everything = tallies["all"]
    assert everything.fields == 6 and everything.exact == 2
    # A reading without flags (NIST's) leaves the flag counts unknown, not zero-flagged.
    nist = score(refs, {"p1": {k: (v, None) for k, v in parse_fields(REF).items()}})
    assert nist["all"].exact == 6 and not nist["all"].has_flags


def test_read_fields_csv_maps_template_order_to_nist_names(tmp_path: Path) -> None:
    csv_path = tmp_path / "fields.csv"
    csv_path.write_text(
        "document,page,field,value,confidence,needs_review,status,reason\n"
        "/x/f0000_14.png,1,digits_a,0123,0.9,false,ok,\n"
        "/x/f0000_14.png,1,sign,'-5,0.9,true,needs_review,1 uncertain character(s)\n"
    )
    reads = read_fields_csv(csv_path, ["name", "digits_a", "sign"])
    assert reads == {"f0000_14": {"hsf_1": ("0123", False), "hsf_2": ("-5", True)}}


def test_a_page_read_as_blank_has_its_fields_flagged_not_confidently_empty(
    tmp_path: Path,
) -> None:
    csv_path = tmp_path / "fields.csv"
    csv_path.write_text(
        "document,page,field,value,confidence,needs_review,status,reason\n"
        "/x/f0000_14.png,1,,,,true,empty,no ink on the page\n"
        "/x/f0001_41.png,1,digits_a,0123,0.9,false,ok,\n"
    )
    reads = read_fields_csv(csv_path, ["name", "digits_a"])
    assert reads["f0000_14"] == {"hsf_0": ("", True), "hsf_1": ("", True)}
    refs = {"f0000_14": {"hsf_3": "0123"}, "f0001_41": {"hsf_3": "0123"}}
    reads = {"f0000_14": {"hsf_3": ("", True)}, "f0001_41": {"hsf_3": ("0123", False)}}
    digits = score(refs, reads)["digits"]
    assert (digits.flagged, digits.unflagged, digits.unflagged_exact) == (1, 1, 1)
    # A page missing from the run (quarantined) is neither: its flags are unknown.
    digits = score(refs, {"f0001_41": reads["f0001_41"]})["digits"]
    assert (digits.fields, digits.flagged, digits.unflagged) == (2, 0, 1)


def test_montage_cuts_fields_from_pages_scanned_at_another_resolution(tmp_path: Path) -> None:
    blank = read_gray(ROOT / "data/templates/nist-hsf-blank.png")
    page = read_gray(ROOT / "data/samples/nist-hsf-f0000_14.png")
    half = tmp_path / "f0000_14.png"  # the sample page as a 150 dpi scanner gives it
    cv2.imwrite(str(half), cv2.resize(page, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA))
    box = [191, 1897, 2269, 1993]  # hsf_32 (the upper-case alphabet), in the blank's pixels
    out = tmp_path / "montage.png"
    wrong = [("f0000_14", "hsf_32", "ABC", "ABD")]
    rows = write_montage(out, wrong, {"f0000_14": half}, {"hsf_32": box}, blank)
    montage = read_gray(out)
    assert rows == 1
    # The row shows that field: as much ink as the full-size page holds there, not paper.
    x0, y0, x1, y1 = box
    expected = (page[y0 - 20 : y1 + 20, x0 - 20 : x1 + 20] < 128).mean()
    shown = (montage[:, :1000] < 128).mean()
    assert 0.5 * expected < shown < 2 * expected


def test_a_page_in_a_batch_costs_what_it_adds_to_the_run() -> None:
    # 3 pages in 3.9 s, 24 in 15.6 s: the 21 pages more took 11.7 s, the start-up once.
    added = added_per_page((3, 1.3), (24, 0.65))
    assert added is not None and math.isclose(added, 11.7 / 21)
    assert added_per_page((3, 1.3), (3, 1.2)) is None
