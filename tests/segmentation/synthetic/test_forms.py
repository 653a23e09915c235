"""Synthetic forms: values that pass their validators, scan writers, and the CLI on real glyphs."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pytest

from ocr_core.errors import InputFileError, OutputError
from segmentation import Template, iter_pages, sniff_type, write_blank_pdf
from segmentation.synthetic import GlyphPool, load_glyph_pool
from segmentation.synthetic.__main__ import main
from segmentation.synthetic.forms import field_value, make_document
from segmentation.synthetic.scan import write_pages
from segmentation.synthetic.styles import LIGHT_PEN


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        value = int(d) * (2 if i % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def test_values_pass_their_validators(templates: dict[str, Template]) -> None:
    rng = np.random.default_rng(0)
    for template in templates.values():
        for spec in template.fields:
            for _ in range(30):
                value = field_value(spec, rng)
                if not value:
                    continue
                assert len(value) <= spec.max_chars
                rule = spec.validation
                if rule.date:
                    dt.datetime.strptime(value, rule.date)
                if rule.luhn and len(value) == spec.max_chars:
                    assert luhn_ok(value), (spec.name, value)
                if rule.regex and len(value) == spec.max_chars and spec.name != "postcode":
                    assert re.match(rule.regex, value), (spec.name, value)


def test_writers_make_every_format(tmp_path: Path) -> None:
    gray = np.full((120, 90), 230, np.uint8)
    gray[40:60, 30:50] = 20
    bilevel = np.where(gray < 128, 0, 255).astype(np.uint8)
    for fmt, pages in (
        ("pdf", [gray, gray]),
        ("tiff", [bilevel] * 3),
        ("png", [gray]),
        ("jpeg", [gray]),
    ):
        path = write_pages(pages, tmp_path / f"doc.{fmt}", fmt, dpi=100)
        assert sniff_type(path) == fmt
        loaded = list(iter_pages(path, dpi=100))
        assert len(loaded) == len(pages) and loaded[0].shape == (120, 90)
    with pytest.raises(ValueError, match="one page"):
        write_pages([gray, gray], tmp_path / "two.png", "png")


def test_cli_writes_documents_with_ground_truth(datasets_dir: Path, tmp_path: Path) -> None:
    pool = load_glyph_pool(datasets_dir)
    assert set("0123456789ABCXYZ") <= set(pool.glyphs)
    assert pool.glyphs["7"].dtype == np.uint8 and pool.glyphs["7"].shape[1:] == (28, 28)
    assert (
        main(
            [
                "forms",
                "--out",
                str(tmp_path),
                "--count",
                "1",
                "--pages",
                "2",
                "--format",
                "tiff",
                "--seed",
                "3",
            ]
        )
        == 0
    )
    truth = json.loads((tmp_path / "form-001.json").read_text())
    pages = list(iter_pages(tmp_path / truth["document"]))
    assert len(pages) == len(truth["pages"]) == 2
    for page, record in zip(pages, truth["pages"], strict=True):
        assert set(np.unique(page)) <= {0, 255}  # fax pages are black and white
        assert record["template"] in ("loan-application", "change-of-address")
        height, width = page.shape
        for field in record["fields"]:
            if field["kind"] in ("mark", "choice"):  # tick boxes: no characters, a state each
                assert field["chars"] == [] and len(field["states"]) >= 1
                continue
            # A value from a list keeps the list's spelling ("ST ALBANS" is written STALBANS).
            written = "".join(c["char"] for c in field["chars"])
            assert "".join(c for c in field["value"] if c.isalnum()) == written
            for char in field["chars"]:
                x0, y0, x1, y1 = char["box"]
                assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
    assert (
        main(
            [
                "blank",
                str(Path(__file__).resolve().parents[3] / "data" / "templates"),
                "--out",
                str(tmp_path / "blank"),
            ]
        )
        == 0
    )
    assert sniff_type(tmp_path / "blank" / "loan-application.pdf") == "pdf"


def test_write_errors_name_the_file(tmp_path: Path, templates: dict[str, Template]) -> None:
    target = tmp_path / "missing-folder" / "doc.pdf"
    with pytest.raises(OutputError, match="missing-folder"):
        write_pages([np.full((50, 40), 255, np.uint8)], target, "pdf")
    with pytest.raises(OutputError, match="missing-folder"):
        write_blank_pdf(templates["loan-application"], target)


def test_missing_dataset_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="t10k-images"):
        load_glyph_pool(tmp_path)


def test_pen_marks_give_the_value_a_person_meant(templates: dict) -> None:
    from segmentation.synthetic.penmarks import MARKS, choose_states, mark_value, write_marks

    form = templates["change-of-address"]
    title = next(f for f in form.fields if f.name == "title")
    moved = next(f for f in form.fields if f.name == "moved_before")
    assert mark_value(moved, ["tick"]) == "1" and mark_value(moved, ["empty"]) == "0"
    assert mark_value(moved, ["crossed_out"]) == ""
    states = ["empty"] * len(title.options)
    assert mark_value(title, states) == ""
    states[1] = "scribble"
    assert mark_value(title, states) == title.options[1].value
    states[2] = "cross"
    assert mark_value(title, states) == ""  # two ticked
    rng = np.random.default_rng(0)
    drawn = [choose_states(title, rng) for _ in range(400)]
    assert {s for states in drawn for s in states} >= {*MARKS, "empty", "crossed_out"}
    page = np.full((3508, 2480), 255, np.uint8)
    truth = write_marks(page, moved, np.random.default_rng(4), 300)
    x0, y0, x1, y1 = moved.box
    inked = (page[y0:y1, x0:x1] < 128).any()
    assert truth["chars"] == [] and inked == (truth["states"][0] != "empty")


@pytest.mark.parametrize("pen", [None, LIGHT_PEN])
def test_a_light_pen_writes_lighter_than_the_print_on_grey_scans(
    drawn_pool: GlyphPool, templates: dict[str, Template], pen: tuple[float, float] | None
) -> None:
    rng = np.random.default_rng(5)
    form = templates["loan-application"]
    scans, records = make_document([form], drawn_pool, rng, 4, turns=False, pen=pen)
    darkest = []  # each written character's darkest pixel
    for scan, record in zip(scans, records, strict=True):
        if pen is not None:
            assert not set(np.unique(scan)) <= {0, 255}  # never a black-and-white scan
            assert tuple(record["style"]["pen"]) == pen
        for field in record["fields"]:
            darkest += [int(scan[y0:y1, x0:x1].min()) for x0, y0, x1, y1 in (
                c["box"] for c in field["chars"])]  # fmt: skip
    if pen is None:
        assert np.median(darkest) < 70
    else:  # lighter than the print (black), and than the page's ink threshold usually is
        assert 100 < np.median(darkest) < 200


def test_the_words_of_a_box_value_are_written_apart(
    drawn_pool: GlyphPool, templates: dict[str, Template]
) -> None:
    from segmentation.synthetic.forms import fill_form

    form = templates["change-of-address"]
    for seed in range(200):  # until a town of two words or more is drawn
        _page, truth = fill_form(form, drawn_pool, np.random.default_rng(seed))
        town = next(f for f in truth if f["name"] == "town")
        if " " in town["value"]:
            break
    else:
        pytest.fail("no town of two words drawn")
    assert (
        town["value"] in form.fields[[f.name for f in form.fields].index("town")].validation.choices
    )
    chars = town["chars"]
    starts = [i for i, c in enumerate(chars) if c.get("space")]
    assert len(starts) == town["value"].count(" ") and 0 not in starts
    for i in starts:  # a word's first letter lies a word's gap after the last one's
        (_, y0, x1, y1), (x2, v0, _, v1) = chars[i - 1]["box"], chars[i]["box"]
        assert x2 - x1 >= 0.7 * max(y1 - y0, v1 - v0)
