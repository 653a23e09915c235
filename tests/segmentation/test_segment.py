"""Registration and cropping on filled shipped forms under scan distortions."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from PIL import Image

from segmentation import (
    Template,
    draw_overlay,
    iter_pages,
    load_template,
    render_blank_form,
    segment_page,
)
from segmentation.crops import cut_field
from segmentation.paper import ink_threshold
from segmentation.records import FieldSpec
from segmentation.register import FEATURE_MIN_SCORE, LOOSE_SCORE, MIN_SCORE
from segmentation.synthetic import GlyphPool, box_iou, fill_form
from segmentation.synthetic.scan import ScanParams
from segmentation.templates import mark_boxes
from tests.segmentation.scans import scanned

BENCHMARK_TEMPLATES = Path(__file__).resolve().parents[2] / "benchmarks" / "templates"
HSF_FORM = "data/templates/nist-hsf.yaml"
DISTORTIONS = [
    ScanParams(),
    ScanParams(angle=5.0, scale=1.05, shift=(-150.0, 120.0), noise=6, jpeg_quality=50),
    ScanParams(angle=-5.0, scale=0.95, shift=(140.0, -130.0), blur=1.0, binarise=True),
    ScanParams(angle=2.0, quarter_turns=2, shift=(100.0, 100.0)),  # upside down
    ScanParams(angle=-3.0, quarter_turns=1, scale=0.97),  # sideways
    ScanParams(angle=4.0, quarter_turns=3, noise=4, binarise=True),
    ScanParams(angle=1.0, shading=0.4, noise=3),  # light falling off towards one side
]


def test_a_page_whose_form_is_left_out_fits_a_similar_one_loosely_and_every_field_is_doubted(
    templates: dict[str, Template], drawn_pool: GlyphPool
) -> None:
    # Every form puts its marks in the same corners: a change-of-address page fits the
    # meter-reading form by them, and that fit finds about three quarters of its lines.
    forms = [*templates.values(), load_template(BENCHMARK_TEMPLATES / "meter-reading.yaml")]
    scan, _ = scanned(templates["change-of-address"], drawn_pool, ScanParams(angle=0.5))
    loose = segment_page(scan, [t for t in forms if t.name != "change-of-address"])
    assert loose.status == "ok" and loose.template == "meter-reading"
    assert MIN_SCORE <= loose.score < LOOSE_SCORE
    assert all("is it another form?" in f.doubt for f in loose.fields)
    right = segment_page(scan, forms)
    assert right.template == "change-of-address" and right.score >= LOOSE_SCORE
    assert not any(f.doubt for f in right.fields)


@pytest.mark.parametrize("params", DISTORTIONS)
def test_distorted_pages_register_and_crop(
    templates: dict[str, Template], drawn_pool: GlyphPool, params: ScanParams
) -> None:
    scan, truth = scanned(templates["loan-application"], drawn_pool, params)
    result = segment_page(scan, list(templates.values()))
    assert result.status == "ok", result.reason
    assert result.template == "loan-application" and result.score > 0.9
    written = found = 0
    for field, expected in zip(result.fields, truth["fields"], strict=True):
        assert field.name == expected["name"]
        assert box_iou(field.box, expected["box"]) > 0.8
        for char in expected["chars"]:
            written += 1
            crops = [c for c in field.chars if c.status == "ok"]
            found += any(box_iou(c.box, char["box"]) > 0.5 for c in crops)
    assert found / written > 0.97


def test_comb_fields_have_one_crop_per_cell(
    templates: dict[str, Template], drawn_pool: GlyphPool
) -> None:
    template = templates["loan-application"]
    scan, truth = scanned(template, drawn_pool, ScanParams(angle=1.0))
    result = segment_page(scan, [template])
    for field, spec, expected in zip(result.fields, template.fields, truth["fields"], strict=True):
        if spec.kind != "comb":
            continue
        assert [c.index for c in field.chars] == list(range(len(spec.cells)))
        filled = {c["index"] for c in expected["chars"]}
        for char in field.chars:
            assert char.image.shape == (28, 28) and char.image.dtype == np.uint8
            assert (char.status == "ok") == (char.index in filled), (field.name, char.index)
            assert char.image.any() == (char.status == "ok")
        assert field.status == ("ok" if filled else "empty")


def test_best_template_is_chosen_and_a_wrong_form_is_refused(
    templates: dict[str, Template], drawn_pool: GlyphPool
) -> None:
    scan, _ = scanned(templates["change-of-address"], drawn_pool, ScanParams(angle=-2.0))
    both = segment_page(scan, list(templates.values()))
    assert both.template == "change-of-address" and both.status == "ok"
    wrong = segment_page(scan, [templates["loan-application"]])
    assert wrong.status == "unregistered" and wrong.fields == ()
    assert "wrong form?" in wrong.reason and wrong.score < 0.6


def test_lost_marks_fall_back_and_a_page_without_the_form_is_refused(
    templates: dict[str, Template], drawn_pool: GlyphPool
) -> None:
    template = templates["change-of-address"]
    rng = np.random.default_rng(1)
    page, _ = fill_form(template, drawn_pool, rng)
    marks = mark_boxes(template.size, template.dpi)
    for lost in (2, 1, 0):  # under a staple, cut off, ...: 3, then 2, then no marks left
        x0, y0, x1, y1 = marks[lost]
        page[y0 - 5 : y1 + 5, x0 - 5 : x1 + 5] = 255
        result = segment_page(page, [template])
        if lost:
            assert result.status == "ok" and result.score > 0.9, (lost, result.reason)
        else:  # features only: registered well, or refused; never a poor fit
            assert result.status == "unregistered" or result.score >= FEATURE_MIN_SCORE
    other = np.full((3508, 2480), 255, np.uint8)
    for row in range(300, 3000, 200):
        other[row : row + 4, 300:2000] = 0  # a ruled page: lines, but not this form's
    result = segment_page(other, [template])
    assert result.status == "unregistered" and result.reason and result.fields == ()


def test_blank_page_and_bad_input(templates: dict[str, Template]) -> None:
    blank = np.full((3508, 2480), 245, np.uint8)
    result = segment_page(blank, list(templates.values()))
    assert result.status == "blank" and result.fields == ()
    with pytest.raises(ValueError, match="uint8"):
        segment_page(blank.astype(np.float32), None)


def _contrast(page: np.ndarray, share: float, paper: int = 250) -> np.ndarray:
    """The page as a scan that keeps only ``share`` of its contrast (a pale scan, faded ink)."""
    faded = paper - (255.0 - page.astype(np.float32)) * share
    return np.clip(np.rint(faded), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("share", [0.45, 0.3])
def test_a_pale_scan_is_read_not_taken_for_a_blank_page(
    templates: dict[str, Template], drawn_pool: GlyphPool, share: float
) -> None:
    # Its darkest ink lies some 115 (then 75) levels under the paper, never under 128.
    scan, _ = scanned(templates["loan-application"], drawn_pool, ScanParams(angle=1.0, noise=3))
    pale = _contrast(scan, share)
    assert pale.min() > 128
    full, faded = (segment_page(p, list(templates.values())) for p in (scan, pale))
    assert faded.status == "ok", faded.reason
    assert faded.template == "loan-application" and faded.score > 0.9
    written = [len(f.chars) for f in full.fields]
    assert [len(f.chars) for f in faded.fields] == written and sum(written) > 50


def test_a_pale_copy_of_a_one_bit_scan_keeps_its_ticks(
    templates: dict[str, Template], drawn_pool: GlyphPool
) -> None:
    # All its ink lies at one level, 160: Otsu's level. Ink was what lies under it, so none
    # was, and each tick box read empty, sure of it.
    scan, _ = scanned(templates["change-of-address"], drawn_pool, ScanParams(binarise=True))
    pale = np.where(scan < 128, 160, 250).astype(np.uint8)
    assert ink_threshold(pale) > 160
    full, faded = (segment_page(p, list(templates.values())) for p in (scan, pale))
    ticked = [[m.fill > 0.01 for m in f.marks] for f in full.fields if f.marks]
    assert any(any(t) for t in ticked)
    assert [[m.fill > 0.01 for m in f.marks] for f in faded.fields if f.marks] == ticked


def test_a_form_printed_on_coloured_paper_is_read_as_on_white(
    templates: dict[str, Template], drawn_pool: GlyphPool
) -> None:
    # Pink or green stock scanned grey: paper at 150. Half way from the ink threshold to white
    # lay above the paper: every field was "mostly ink", every tick box crossed out.
    for form in ("loan-application", "change-of-address"):
        scan, _ = scanned(templates[form], drawn_pool, ScanParams(angle=1.0, noise=3))
        stock = np.rint(40 + scan.astype(np.float32) * (150 - 40) / 255).astype(np.uint8)
        full, coloured = (segment_page(p, list(templates.values())) for p in (scan, stock))
        assert coloured.status == "ok" and coloured.template == form
        assert not any(f.status == "unreadable" for f in coloured.fields)
        written = [len(f.chars) for f in full.fields]
        assert [len(f.chars) for f in coloured.fields] == written and sum(written) > 30
        marks = [[round(m.fill, 2) for m in f.marks] for f in full.fields if f.marks]
        assert [[round(m.fill, 2) for m in f.marks] for f in coloured.fields if f.marks] == marks


def test_a_blank_sheet_stays_blank_with_its_back_showing_through(
    templates: dict[str, Template],
) -> None:
    back = cv2.flip(render_blank_form(templates["loan-application"]), 1)
    rng = np.random.default_rng(0)
    for share, noise in ((30 / 255, 0.0), (30 / 255, 8.0)):
        sheet = _contrast(back, share).astype(np.float32) + rng.normal(0, noise, back.shape)
        sheet = np.clip(sheet, 0, 255).astype(np.uint8)
        result = segment_page(sheet, list(templates.values()))
        assert result.status == "blank", (share, noise, result.status)


def test_a_real_form_faxed_in_standard_mode_is_registered_and_cut(tmp_path: Path) -> None:
    # The HSF sample page (NIST SD19) as a fax sends it: 1 bit, 204 dpi across, 98 down.
    root = BENCHMARK_TEMPLATES.parents[1]
    [page] = iter_pages(root / "data/samples/nist-hsf-f0000_14.png")
    small = cv2.resize(page, None, fx=204 / 300, fy=98 / 300, interpolation=cv2.INTER_AREA)
    fax = tmp_path / "fax.tif"
    Image.fromarray(small > 160).save(fax, compression="group4", dpi=(204, 98))
    [loaded] = iter_pages(fax)
    result = segment_page(loaded, [load_template(root / HSF_FORM)])
    assert result.status == "ok" and result.template == "nist-hsf", result.reason
    # NIST's reference for hsf_6..hsf_8: 86, 506, 8941.
    fields = {f.name: f for f in result.fields}
    assert [len(fields[f"digits_{n:02d}"].chars) for n in (6, 7, 8)] == [2, 3, 4]


def test_a_page_that_no_form_without_marks_fits_is_not_said_to_lack_marks() -> None:
    root = BENCHMARK_TEMPLATES.parents[1]
    ruled = np.full((3300, 2560), 255, np.uint8)
    for row in range(300, 3000, 200):
        ruled[row : row + 4, 300:2000] = 0  # lines, but not the HSF form's
    result = segment_page(ruled, [load_template(root / HSF_FORM)])  # printed without marks
    assert result.status == "unregistered"
    assert "matches none of the forms' blanks" in result.reason and "marks" not in result.reason


def test_a_real_form_printed_in_a_dropout_grey_and_written_dark_is_registered() -> None:
    # The HSF sample page (NIST SD19) with its print, the blank form where it lies on the page,
    # turned grey 190 and its writing left black: ORB's features were mostly the pen's.
    root = BENCHMARK_TEMPLATES.parents[1]
    form = load_template(root / HSF_FORM)
    [page] = iter_pages(root / "data/samples/nist-hsf-f0000_14.png")
    placed = segment_page(page, [form])
    [blank] = iter_pages(root / "data/templates/nist-hsf-blank.png")
    to_page = np.array(placed.transform).reshape(3, 3)
    size = (page.shape[1], page.shape[0])
    printed = cv2.warpPerspective(blank, to_page, size, borderValue=255) < 128
    printed = cv2.dilate(printed.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    dropout = np.where(page < 128, np.where(printed, 190, 30), 250).astype(np.uint8)
    result = segment_page(cv2.GaussianBlur(dropout, (0, 0), 0.8), [form])
    assert result.status == "ok" and result.template == "nist-hsf", result.reason
    fields = {f.name: f for f in result.fields}
    assert [len(fields[f"digits_{n:02d}"].chars) for n in (6, 7, 8)] == [2, 3, 4]


def test_a_real_form_scanned_at_100_dpi_is_registered_and_cut() -> None:
    # A third of the form's resolution (a scan shrunk to be sent): ORB alone matched none.
    root = BENCHMARK_TEMPLATES.parents[1]
    [page] = iter_pages(root / "data/samples/nist-hsf-f0000_14.png")
    grey = cv2.GaussianBlur(20 + page.astype(np.float32) * (215 / 255), (0, 0), 0.8)
    small = cv2.resize(grey, None, fx=1 / 3, fy=1 / 3, interpolation=cv2.INTER_AREA)
    result = segment_page(np.rint(small).astype(np.uint8), [load_template(root / HSF_FORM)])
    assert result.status == "ok" and result.template == "nist-hsf", result.reason
    fields = {f.name: f for f in result.fields}
    assert [len(fields[f"digits_{n:02d}"].chars) for n in (6, 7, 8)] == [2, 3, 4]


def small_field(kind: str, cells: int = 0) -> FieldSpec:
    box = (50, 50, 450, 150)
    edges: list[int] = np.linspace(50, 450, cells + 1).round().astype(int).tolist() if cells else []
    cell_boxes = tuple((int(a), 50, int(b), 150) for a, b in itertools.pairwise(edges))
    return FieldSpec("f", kind, "alnum", box, cell_boxes, max(cells, 6))


def test_box_field_merges_broken_strokes_splits_touching_and_ignores_specks() -> None:
    page = np.full((200, 500), 255, np.uint8)
    page[50:53, 50:450] = page[148:151, 50:450] = 0  # box lines
    page[50:150, 50:53] = page[50:150, 448:451] = 0
    page[75:130, 80:86] = 0  # an "i": stem ...
    page[64:70, 80:86] = 0  # ... and its dot
    # Two pen-drawn rings joined by one thin stroke: touching letters (an O and a D, say).
    cv2.ellipse(page, (170, 102), (17, 24), 0, 0, 360, 0, 6)
    page[100:106, 186:219] = 0
    cv2.ellipse(page, (235, 102), (17, 24), 0, 0, 360, 0, 6)
    page[120:122, 350:352] = 0  # a speck
    field = cut_field(page, small_field("box"), np.eye(3), 128, 300)
    assert field.status == "ok"
    assert [c.status for c in field.chars] == ["ok"] * 3
    boxes = [c.box for c in field.chars]
    assert boxes[0][0] >= 78 and boxes[0][1] <= 64 and boxes[0][3] >= 129  # dot kept with stem
    assert boxes[1][0] <= 151 and boxes[2][2] >= 254 and boxes[1][2] < boxes[2][0] + 10


def test_comb_keeps_strokes_crossing_the_lines() -> None:
    spec = small_field("comb", 4)
    page = np.full((200, 500), 255, np.uint8)
    page[50:53, 50:450] = page[148:151, 50:450] = 0
    page[50:150, 50:53] = page[50:150, 448:451] = 0
    for x in (150, 250, 350):
        page[115:150, x - 1 : x + 2] = 0  # ticks
    page[70:170, 95:101] = 0  # a "1" crossing the bottom line of cell 0
    field = cut_field(page, spec, np.eye(3), 128, 300)
    statuses = [c.status for c in field.chars]
    assert statuses == ["ok", "empty", "empty", "empty"]
    x0, _y0, x1, y1 = field.chars[0].box
    assert y1 >= 165 and x0 >= 93 and x1 <= 103  # below the line, and no line left in it


def test_field_off_the_page_is_unreadable() -> None:
    page = np.full((200, 300), 255, np.uint8)
    field = cut_field(page, small_field("box"), np.eye(3), 128, 300)
    assert field.status == "unreadable" and "outside" in field.reason


def test_overlay_is_colour_and_marks_fields(
    templates: dict[str, Template], drawn_pool: GlyphPool
) -> None:
    scan, _ = scanned(templates["loan-application"], drawn_pool, ScanParams(angle=3.0))
    result = segment_page(scan, list(templates.values()))
    overlay = draw_overlay(scan, result)
    assert overlay.shape == (*scan.shape, 3) and overlay.dtype == np.uint8
    x0, y0, _, _ = result.fields[0].box
    assert tuple(overlay[y0, x0]) != (scan[y0, x0],) * 3


def test_form_without_marks_registers_to_its_reference_image(
    templates: dict[str, Template], drawn_pool: GlyphPool, tmp_path: Path
) -> None:
    source = templates["change-of-address"].source
    data = yaml.safe_load(source.read_text())
    cv2.imwrite(
        str(tmp_path / "blank.png"), render_blank_form(templates["change-of-address"], marks=False)
    )
    data.update(marks=False, reference_image="blank.png")
    (tmp_path / "plain.yaml").write_text(yaml.safe_dump(data))
    (tmp_path / "towns.txt").write_bytes((source.parent / "towns.txt").read_bytes())
    plain = load_template(tmp_path / "plain.yaml")
    assert plain.reference_image is not None and not plain.marks
    scan, _ = scanned(plain, drawn_pool, ScanParams(angle=2.0, shift=(50.0, 30.0)))
    result = segment_page(scan, [plain])
    assert result.status == "ok" and result.score >= FEATURE_MIN_SCORE


@pytest.mark.parametrize("factor", [2 / 3, 1 / 2])
def test_pages_scanned_at_a_lower_resolution(
    templates: dict[str, Template], drawn_pool: GlyphPool, factor: float
) -> None:
    scan, truth = scanned(templates["change-of-address"], drawn_pool, ScanParams(angle=-1.5))
    small = cv2.resize(scan, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    result = segment_page(small, list(templates.values()))
    assert result.status == "ok" and result.template == "change-of-address"
    written = sum(len(f["chars"]) for f in truth["fields"])
    found = sum(c.status == "ok" for f in result.fields for c in f.chars)
    assert abs(found - written) <= 0.03 * written
    field = result.fields[0]
    expected = [round(v * factor) for v in truth["fields"][0]["box"]]
    assert box_iou(field.box, expected) > 0.8
