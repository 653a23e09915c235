"""The committed sample set: every page registers to its template and its characters are found.

The synthetic samples give every written character's box; the real NIST page gives only its
fields' values (no character boxes), so for it this checks registration and the fields. How well
the real page is read is measured by ``benchmarks.real_forms``, not asserted here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from segmentation import Template, count_pages, iter_pages, segment_page, sniff_type

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
TRUTHS = sorted(SAMPLES.glob("*.json"))


def test_sample_set_covers_every_format() -> None:
    kinds = {sniff_type(SAMPLES / json.loads(t.read_text())["document"]) for t in TRUTHS}
    assert kinds == {"pdf", "tiff", "png", "jpeg"}
    fax = SAMPLES / "mixed-fax-001.tif"
    assert count_pages(fax) == 3


@pytest.mark.parametrize("truth_path", TRUTHS, ids=[t.stem for t in TRUTHS])
def test_sample_pages_segment(truth_path: Path, templates: dict[str, Template]) -> None:
    truth = json.loads(truth_path.read_text())
    document = SAMPLES / truth["document"]
    pages = list(iter_pages(document))
    assert len(pages) == len(truth["pages"])
    for page, expected in zip(pages, truth["pages"], strict=True):
        result = segment_page(page, list(templates.values()))
        assert result.status == "ok", f"{document.name} page {expected['page']}: {result.reason}"
        assert result.template == expected["template"]
        by_name = {field.name: field for field in result.fields}
        truth_names = [f["name"] for f in expected["fields"]]
        if "transform" in expected:  # synthetic: the truth lists every field, in order
            assert [field.name for field in result.fields] == truth_names
        assert set(truth_names) <= set(by_name)  # a real page's truth leaves unknown fields out
        written = found = 0
        for field_truth in expected["fields"]:
            field = by_name[field_truth["name"]]
            centres = [
                ((c.box[0] + c.box[2]) / 2, (c.box[1] + c.box[3]) / 2)
                for c in field.chars
                if c.status == "ok"
            ]
            for char in field_truth.get("chars", []):  # a real page has no character boxes
                x0, y0, x1, y1 = char["box"]
                written += 1
                found += any(x0 <= x <= x1 and y0 <= y <= y1 for x, y in centres)
        assert found >= 0.97 * written, f"{document.name} page {expected['page']}"


@pytest.mark.parametrize("truth_path", TRUTHS, ids=[t.stem for t in TRUTHS])
def test_sample_tick_boxes_read_as_written(
    truth_path: Path, templates: dict[str, Template]
) -> None:
    from ocr_core.reading.ticks import read_mark_field

    truth = json.loads(truth_path.read_text())
    pages = list(iter_pages(SAMPLES / truth["document"]))
    for page, expected in zip(pages, truth["pages"], strict=True):
        marked = [f for f in expected["fields"] if f["kind"] in ("mark", "choice")]
        if not marked:
            continue
        result = segment_page(page, list(templates.values()))
        by_name = {field.name: field for field in result.fields}
        for field_truth in marked:
            read = read_mark_field(by_name[field_truth["name"]])
            assert (read.value, read.needs_review) == (field_truth["value"], False), field_truth
