"""Drafting a template from a blank: boxes in every drawing style, names, charsets, --update."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from benchmarks.draft import box_error
from segmentation import iter_pages, load_template, render_blank_form
from segmentation.draft.__main__ import main
from segmentation.draft.drafting import draft_page, draft_template
from segmentation.draft.labels import tesseract_available
from segmentation.records import Box
from segmentation.render import FormStyle
from segmentation.synthetic.scan import ScanParams, simulate_scan

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "data" / "templates"
SAMPLES = ROOT / "data" / "samples"
HSF = Path(os.environ.get("DIGITISE_DATASETS_DIR", "data/datasets")) / "hsf-dev" / "template"
needs_tesseract = pytest.mark.skipif(not tesseract_available(), reason="tesseract not installed")


def _mapped(box: Box, matrix: np.ndarray) -> Box:
    x0, y0, x1, y1 = box
    pts = np.array([[x0, y0, 1], [x1, y1, 1]], float) @ matrix.T
    return (round(pts[0, 0]), round(pts[0, 1]), round(pts[1, 0]), round(pts[1, 1]))


@pytest.mark.parametrize(
    "style",
    [
        None,
        FormStyle(thickness=1, cells="dividers"),
        FormStyle(thickness=7, cells="boxes", gap=18),
        FormStyle(thickness=3, cells="ticks", shade=190),
    ],
)
def test_scanned_blank_gives_back_its_boxes(style: FormStyle | None) -> None:
    template = load_template(TEMPLATES / "loan-application.yaml")
    params = ScanParams(angle=1.2, shift=(35.0, -20.0), blur=0.6, noise=4.0, shading=0.2)
    scan, to_scan = simulate_scan(
        render_blank_form(template, style=style), params, np.random.default_rng(1)
    )
    found, marks = draft_page(scan, 300, labels=False)
    assert marks
    assert len(found.fields) == len(template.fields)
    to_draft = found.matrix @ to_scan
    for spec, field in zip(template.fields, found.fields, strict=True):
        assert box_error(field.box, _mapped(spec.box, to_draft)) <= 3, spec.name
        assert (field.kind, len(field.cells)) == (spec.kind, len(spec.cells)), spec.name


@needs_tesseract
def test_draft_writes_a_template_that_loads(tmp_path: Path) -> None:
    template = load_template(TEMPLATES / "change-of-address.yaml")
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), render_blank_form(template, marks=False))
    out = tmp_path / "forms" / "my-form.yaml"
    assert main([str(blank), "--out", str(out)]) == 0
    drafted = load_template(out)
    assert drafted.name == "my-form" and not drafted.marks
    assert drafted.size == (2480, 3508) and drafted.reference_image is not None
    assert (tmp_path / "forms" / "my-form.preview.png").exists()
    # Writing fields come back named and placed; each printed tick box (the title's options
    # and "moved before") comes back as a lone ``mark``: grouping options is left to the user.
    written = [f for f in drafted.fields if f.kind != "mark"]
    wanted = [f for f in template.fields if f.kind not in ("mark", "choice")]
    assert [f.name for f in written] == [f.name for f in wanted]
    boxes = sorted(f.box for f in drafted.fields if f.kind == "mark")
    printed = sorted(o.box for f in template.fields for o in f.options)
    assert len(boxes) == len(printed) == 7
    assert all(box_error(b, o) <= 3 for b, o in zip(boxes, printed, strict=True))
    assert [f.charset for f in written] == [
        "upper",
        "upper",
        "digits",
        "upper",
        "upper",
        "alnum",
        "digits",
        "digits",
    ]
    assert [f.box for f in written] == [f.box for f in wanted]
    by_name = {f.name: f for f in drafted.fields}
    assert by_name["moving_date"].validation.date == "%d%m%Y"
    assert by_name["postcode"].validation.regex
    text = out.read_text()
    assert "# UK postcode format" in text


def test_tick_boxes_and_separate_boxes_are_drafted_as_data(tmp_path: Path) -> None:
    page = np.full((3508, 2480), 255, np.uint8)
    for k in range(6):  # a row of separate character boxes, 14 px apart
        cv2.rectangle(page, (300 + 90 * k, 600), (376 + 90 * k, 710), 0, 3)
    cv2.rectangle(page, (300, 1000), (1500, 1130), 120, 2)  # a grey frame
    cv2.rectangle(page, (300, 1400), (345, 1445), 0, 3)  # a tick box, 45 px
    cv2.rectangle(page, (900, 1400), (1800, 1500), 0, 9)  # a heavy frame
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), page)
    draft = draft_template(blank, tmp_path / "t.yaml", labels=False)
    fields = yaml.safe_load(draft.yaml_text)["fields"]
    assert [f["kind"] for f in fields] == ["comb", "box", "mark", "box"]
    assert fields[0]["cells"] == 6 and box_error(tuple(fields[0]["box"]), (300, 600, 826, 710)) <= 3
    assert box_error(tuple(fields[1]["box"]), (300, 1000, 1500, 1130)) <= 2
    assert set(fields[2]) == {"name", "kind", "box"}
    assert box_error(tuple(fields[2]["box"]), (300, 1400, 345, 1445)) <= 2
    assert box_error(tuple(fields[3]["box"]), (900, 1400, 1800, 1500)) <= 2
    assert "no charset evident" in draft.yaml_text
    # The draft loads as a template, its tick box a ``mark`` field with one option.
    (tmp_path / "t.yaml").write_text(draft.yaml_text, encoding="utf-8")
    loaded = load_template(tmp_path / "t.yaml")
    assert [f.kind for f in loaded.fields] == ["comb", "box", "mark", "box"]
    assert [o.value for o in loaded.fields[2].options] == ["1"]


@pytest.mark.skipif(not (HSF / "hsftmplt.pts").exists(), reason="hsf-dev not available")
def test_real_hsf_blank_gives_nists_34_boxes() -> None:
    blank = np.asarray(cv2.imread(str(HSF / "hsftmplt.png"), cv2.IMREAD_GRAYSCALE), np.uint8)
    rows = (HSF / "hsftmplt.pts").read_text().split("\n")[1:35]
    truth = [(v[0], v[1], v[6] + 1, v[7] + 1) for v in ([int(x) for x in r.split()] for r in rows)]
    found, marks = draft_page(blank, 300, labels=tesseract_available())
    assert not marks and len(found.fields) == 34
    for field, box in zip(found.fields, truth, strict=True):
        assert field.kind == "box" and box_error(field.box, box) <= 6
    if tesseract_available():  # the labels, and the samples printed to be copied
        names = [f.name for f in found.fields]
        assert names[:4] == ["name", "date", "city_state_zip", "field_04"]
        charsets = [f.charset for f in found.fields]
        assert charsets[3:31] == ["digits"] * 28 and charsets[31:33] == ["lower", "upper"]


@needs_tesseract
def test_filled_form_drafts_like_its_blank(tmp_path: Path) -> None:
    truth = json.loads((SAMPLES / "scan-001.json").read_text())["pages"][0]
    draft = draft_template(SAMPLES / "scan-001.png", tmp_path / "loan.yaml")
    fields = yaml.safe_load(draft.yaml_text)["fields"]
    assert [f["kind"] for f in fields] == [f["kind"] for f in truth["fields"]]
    cells = [f.get("cells") for f in fields if f["kind"] == "comb"]
    assert cells == [8, 6, 16, 8, 8, 7, 7, 3, 3, 11]
    assert [f["name"] for f in fields][:4] == [
        "account_number",
        "sort_code",
        "card_number",
        "date_of_birth",
    ]


@needs_tesseract
def test_update_keeps_the_users_edits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = load_template(TEMPLATES / "loan-application.yaml")
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), render_blank_form(template))
    out = tmp_path / "loan.yaml"
    assert main([str(blank), "--out", str(out)]) == 0
    assert main([str(blank), "--out", str(out)]) == 3  # never overwritten unasked
    assert "loan.yaml" in capsys.readouterr().err
    data = yaml.safe_load(out.read_text())
    data["name"] = "my-loan"
    data["fields"][4].update(name="application_date", validate={"date": "%d%m%Y"})
    data["fields"][6]["name"] = "loan_amount"
    data["fields"][9]["validate"] = {"regex": "^0[0-9]{10}$"}
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    shifted = np.roll(render_blank_form(template), (25, -30), axis=(0, 1))  # scanned again
    cv2.imwrite(str(blank), shifted)
    assert main([str(blank), "--update", str(out)]) == 0
    updated = load_template(out)
    assert updated.name == "my-loan"
    names = [f.name for f in updated.fields]
    assert names[4] == "application_date" and names[6] == "loan_amount"
    assert updated.fields[9].validation.regex == "^0[0-9]{10}$"
    assert box_error(updated.fields[0].box, template.fields[0].box) <= 1  # in the marks' frame


def test_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    assert main([str(text), "--out", str(tmp_path / "x.yaml"), "--no-labels"]) == 2
    err = capsys.readouterr().err
    assert "notes.png" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    empty = tmp_path / "empty.png"
    cv2.imwrite(str(empty), np.full((3508, 2480), 255, np.uint8))
    assert main([str(empty), "--out", str(tmp_path / "y.yaml"), "--no-labels"]) == 2
    assert "no field boxes found" in capsys.readouterr().err
    assert not (tmp_path / "y.yaml").exists()


def test_our_rendered_blank_is_accepted_as_the_a4_reference(tmp_path: Path) -> None:
    template = load_template(TEMPLATES / "loan-application.yaml")
    cv2.imwrite(str(tmp_path / "blank.png"), render_blank_form(template, marks=False))
    raw = yaml.safe_load((TEMPLATES / "loan-application.yaml").read_text())
    del raw["size"]
    raw.update(marks=False, reference_image="blank.png")
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(raw))
    assert load_template(tmp_path / "t.yaml").size == (2480, 3508)


def test_pdf_blank(tmp_path: Path) -> None:
    from segmentation import write_blank_pdf

    template = load_template(TEMPLATES / "loan-application.yaml")
    pdf = write_blank_pdf(template, tmp_path / "blank.pdf")
    page = next(iter_pages(pdf))
    draft = draft_template(pdf, tmp_path / "t.yaml", labels=False)
    assert len(draft.found.fields) == 11 and draft.found.upright.shape == page.shape
