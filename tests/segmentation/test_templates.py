"""Template loading, validation messages and blank-form rendering."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from ocr_core.errors import TemplateError
from segmentation import iter_pages, load_template, load_templates, render_blank_form
from segmentation.render import write_blank_pdf
from segmentation.templates import mark_boxes

SHIPPED = Path(__file__).resolve().parents[2] / "data" / "templates"

GOOD: dict = {
    "name": "tiny",
    "dpi": 100,
    "size": [800, 1000],
    "fields": [
        {
            "name": "code",
            "kind": "comb",
            "cells": 4,
            "charset": "digits",
            "box": [100, 200, 300, 250],
        },
        {"name": "town", "kind": "box", "charset": "upper", "box": [100, 400, 700, 460]},
    ],
}


def write(tmp_path: Path, data: object, name: str = "form.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def test_shipped_templates_load() -> None:
    templates = load_templates([SHIPPED])
    names = {t.name for t in templates}
    assert names == {"loan-application", "change-of-address", "nist-hsf"}
    loan = next(t for t in templates if t.name == "loan-application")
    card = next(f for f in loan.fields if f.name == "card_number")
    assert card.kind == "comb" and len(card.cells) == 16 and card.validation.luhn
    assert loan.size == (2480, 3508) and loan.reference_image is None
    # The real NIST form: no marks, registered to its blank; NIST's 34 boxes in their order.
    hsf = next(t for t in templates if t.name == "nist-hsf")
    assert not hsf.marks and hsf.reference_image is not None
    assert hsf.size == (2560, 3300) and hsf.reference_image.shape == (3300, 2560)
    assert len(hsf.fields) == 34 and all(f.kind == "box" for f in hsf.fields)
    assert [f.charset for f in hsf.fields[3:31]] == ["digits"] * 28
    assert (hsf.fields[31].charset, hsf.fields[32].charset) == ("lower", "upper")


def test_good_template_and_explicit_cells(tmp_path: Path) -> None:
    data = dict(GOOD)
    data["fields"] = [
        *GOOD["fields"],
        {
            "name": "pin",
            "kind": "comb",
            "box": [400, 200, 600, 260],
            "cells": [[400, 200, 480, 260], [500, 200, 580, 260]],
        },
    ]
    template = load_template(write(tmp_path, data))
    pin = template.fields[2]
    assert pin.explicit_cells and pin.cells[1] == (500, 200, 580, 260) and pin.max_chars == 2
    assert template.fields[1].max_chars > 0 and template.fields[1].charset == "upper"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": "red"}, "colour: unknown key"),
        ({"name": ""}, "name: missing"),
        ({"dpi": 5}, "dpi"),
        ({"fields": []}, "fields: missing or empty"),
        ({"fields": [{"name": "a b", "kind": "box", "box": [1, 2, 3, 4]}]}, "not an identifier"),
        ({"fields": [{"name": "a", "kind": "circle", "box": [100, 200, 300, 250]}]}, "kind"),
        ({"fields": [{"name": "a", "kind": "box", "box": [100, 200, 900, 250]}]}, "outside"),
        ({"fields": [{"name": "a", "kind": "box", "box": [100, 200]}]}, r"\[x0, y0, x1, y1\]"),
        (
            {"fields": [{"name": "a", "kind": "comb", "cells": 40, "box": [100, 200, 300, 250]}]},
            "px wide",
        ),
        ({"fields": [{"name": "a", "kind": "comb", "box": [100, 200, 300, 250]}]}, "cells"),
        ({"fields": [{"name": "a", "kind": "box", "box": [10, 10, 300, 250]}]}, "registration"),
        ({"fields": [GOOD["fields"][0], {**GOOD["fields"][0], "name": "b"}]}, "overlaps"),
        ({"fields": [{**GOOD["fields"][0], "validate": {"regex": "(["}}]}, "does not compile"),
        ({"fields": [{**GOOD["fields"][0], "validate": {"date": "dd/mm"}}]}, "strptime"),
        ({"marks": False}, "needs a reference_image"),
        ({"reference_image": "missing.png"}, "cannot read"),
    ],
)
def test_invalid_templates_name_file_and_field(tmp_path: Path, change: dict, message: str) -> None:
    path = write(tmp_path, {**GOOD, **change})
    with pytest.raises(TemplateError, match=message) as info:
        load_template(path)
    assert str(path) in str(info.value)


def test_unreadable_files_and_folders(tmp_path: Path) -> None:
    for path, message in (
        (tmp_path / "absent.yaml", "not found"),
        (write(tmp_path, "name: [unclosed", "bad.yaml"), "not valid YAML"),
        (write(tmp_path, "- just\n- a list\n", "list.yaml"), "mapping"),
    ):
        with pytest.raises(TemplateError, match=message) as info:
            load_template(path)
        assert str(path) in str(info.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(TemplateError, match=f"{empty}.*no"):
        load_templates([empty])
    twice = tmp_path / "twice"
    twice.mkdir()
    write(twice, GOOD, "a.yaml")
    write(twice, GOOD, "b.yaml")
    with pytest.raises(TemplateError, match="also used by"):
        load_templates([twice])


def test_reference_image_must_match_the_page_size(tmp_path: Path) -> None:
    Image.new("L", (80, 100), 255).save(tmp_path / "blank.png")
    path = write(tmp_path, {**GOOD, "reference_image": "blank.png"})
    with pytest.raises(TemplateError, match=r"reference_image.*800x1000") as info:
        load_template(path)
    assert str(path) in str(info.value)
    Image.new("L", (800, 1000), 255).save(tmp_path / "blank.png")
    assert load_template(path).reference_image.shape == (1000, 800)  # type: ignore[union-attr]


def test_blank_form_png_and_pdf_agree(tmp_path: Path) -> None:
    template = load_template(write(tmp_path, GOOD))
    page = render_blank_form(template)
    assert page.dtype == np.uint8 and page.shape == (1000, 800)
    for x0, y0, x1, y1 in mark_boxes(template.size, template.dpi):
        assert page[y0:y1, x0:x1].max() == 0
    assert page[200, 150] == 0 and page[230, 150] == 255  # top line, then paper inside
    assert page[240, 150] == 0  # the first cell tick, rising from the bottom line
    pdf = write_blank_pdf(template, tmp_path / "blank.pdf")
    rendered = next(iter_pages(pdf, dpi=100))
    assert rendered.shape == page.shape
    lines = render_blank_form(template, labels=False) < 128
    assert (rendered[lines] < 128).mean() > 0.9
