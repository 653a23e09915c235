"""The review station: answers checked and saved at once, files and origins it refuses."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from ocr_core.results.csvfiles import read_csv_rows
from ocr_core.review.queue import pending_runs
from ocr_core.review.server import create_app
from ocr_core.review.station import ReviewRun, ensure_sheet

HOST = "127.0.0.1"
BASE = "http://127.0.0.1:8765"
ORIGIN = {"Origin": BASE}
SURNAME = {"document": "a.png", "page": 1, "field": "surname"}


@pytest.fixture
def client(run_dir: Path, tmp_path: Path) -> TestClient:
    app = create_app(
        ReviewRun(run_dir), reviewed_dir=tmp_path / "reviewed", reviewer="ann", host=HOST
    )
    return TestClient(app, base_url=BASE)


def test_answers_are_checked_and_saved_at_once(run_dir: Path) -> None:
    run = ReviewRun(run_dir)
    assert run.progress() == (0, 2)
    refused = run.answer(("a.png", 1, "surname"), "correct", "wRIGHT", "ann")
    assert not refused.saved and "not allowed in an upper field" in refused.problems[0]
    assert run.answer(("a.png", 1, "surname"), "correct", "WRIGHT", "ann").saved
    # Accepting a value that fails its validators is refused: a person must type the right one.
    assert run.answer(("a.png", 1, "account"), "unreadable", "", "ann").saved
    # A new station (a restarted server) reads what was saved.
    again = ReviewRun(run_dir)
    assert again.progress() == (2, 2)
    rows = {r["field"]: r for r in read_csv_rows(run_dir / "review_fields.csv")}
    assert (rows["surname"]["correction"], rows["surname"]["reviewer"]) == ("WRIGHT", "ann")
    assert rows["account"]["unreadable"] == "yes" and rows["account"]["reviewed_at"]
    assert again.answer(("a.png", 1, "account"), "reopen", "", "ann").saved
    assert ReviewRun(run_dir).progress() == (1, 2)


def test_accepting_a_value_that_fails_its_checks_is_refused(run_dir: Path) -> None:
    fields_csv = run_dir / "fields.csv"
    sheet = run_dir / "review_fields.csv"
    for path in (fields_csv, sheet):
        path.write_text(path.read_text().replace(",173,", ",174,"), encoding="utf-8")
    verdict = ReviewRun(run_dir).answer(("a.png", 1, "account"), "accept", "", "ann")
    assert not verdict.saved and "does not match" in verdict.problems[0]


def test_the_page_and_its_api(client: TestClient, run_dir: Path) -> None:
    assert "Review station" in client.get("/").text
    state = client.get("/api/state").json()
    assert (state["answered"], state["total"]) == (0, 2)
    surname = state["fields"][1]
    assert surname["image"] == "/files/crops/0000-a/p1-surname.field.jpg"
    assert [c["index"] for c in surname["uncertain"]] == [0, 1, 4]
    assert surname["uncertain"][0]["top"][0] == ["G", "0.4000"]
    assert client.get(surname["image"]).status_code == 200
    # A crop is its region of the field's crops image, cut by the server.
    crop = surname["uncertain"][2]["crop"]
    assert crop == "/files/crops/0000-a/p1-surname.crops.png?xywh=40,0,9,20"
    image = cv2.imdecode(np.frombuffer(client.get(crop).content, np.uint8), cv2.IMREAD_UNCHANGED)
    whole = cv2.imread(str(run_dir / "crops/0000-a/p1-surname.crops.png"), cv2.IMREAD_UNCHANGED)
    assert image is not None and whole is not None
    assert np.array_equal(image, whole[0:20, 40:49])
    for bad in ("40,0,9,99", "40,0,0,20", "-1,0,9,20", "x"):  # off the image, empty, malformed
        assert client.get(crop.replace("40,0,9,20", bad)).status_code == 404, bad
    reply = client.post("/api/answer", json={**SURNAME, "action": "accept"}, headers=ORIGIN)
    assert reply.json()["saved"] and reply.json()["answered"] == 1
    # Every field of a document can be listed; none here is outside review.
    assert {f["in_review"] for f in client.get("/api/fields?document=a.png").json()} == {True}
    report = client.post("/api/apply", json={}, headers=ORIGIN).json()["report"]
    assert "training examples: 7 added" in report


@pytest.mark.parametrize(
    ("path", "headers", "body", "status"),
    [
        ("/api/answer", {}, {**SURNAME, "action": "accept"}, 403),  # no Origin
        ("/api/answer", {"Origin": "http://evil.test"}, {**SURNAME, "action": "accept"}, 403),
        (
            "/api/answer",
            {**ORIGIN, "Sec-Fetch-Site": "cross-site"},
            {**SURNAME, "action": "accept"},
            403,
        ),
        ("/api/answer", ORIGIN, {**SURNAME, "action": "correct", "value": "A\x00"}, 422),
        ("/api/answer", ORIGIN, {**SURNAME, "action": "delete"}, 422),
        ("/api/answer", ORIGIN, {**SURNAME, "page": "../1", "action": "accept"}, 422),
        ("/api/answer", ORIGIN, {**SURNAME, "action": "accept", "extra": 1}, 422),
    ],
)
def test_refused_requests(
    client: TestClient,
    run_dir: Path,
    path: str,
    headers: dict[str, str],
    body: dict[str, object],
    status: int,
) -> None:
    before = (run_dir / "review_fields.csv").read_bytes()
    assert client.post(path, json=body, headers=headers).status_code == status
    assert (run_dir / "review_fields.csv").read_bytes() == before


def test_only_the_runs_review_files_are_served_to_its_own_host(client: TestClient) -> None:
    for path in (
        "/files/run.json",
        "/files/../../etc/passwd",
        "/files/fields.csv",
        "/files/%2e%2e/x",
    ):
        assert client.get(path).status_code == 404, path
    assert client.get("/api/state", headers={"Host": "evil.test"}).status_code == 403


def test_pending_lists_runs_with_unanswered_fields_oldest_first(
    run_dir: Path, tmp_path: Path
) -> None:
    output = tmp_path / "output"
    for name, started in (("a-newer", "2026-02-01T00:00:00"), ("b-older", "2026-01-01T00:00:00")):
        shutil.copytree(run_dir, output / name)
        manifest = json.loads((output / name / "run.json").read_text())
        (output / name / "run.json").write_text(json.dumps({**manifest, "started": started}))
    (output / "c-unfinished").mkdir()  # no run.json yet: still being written
    assert [(r.run_dir.name, r.pending) for r in pending_runs(output)] == [
        ("b-older", 2),
        ("a-newer", 2),
    ]
    older = ReviewRun(output / "b-older")
    for field in ("account", "surname"):
        assert older.answer(("a.png", 1, field), "unreadable", "", "ann").saved
    assert [r.run_dir.name for r in pending_runs(output)] == ["a-newer"]


def test_a_field_not_flagged_can_be_pulled_into_review(client: TestClient, run_dir: Path) -> None:
    sheet = run_dir / "review_fields.csv"
    lines = sheet.read_text().splitlines()
    sheet.write_text("\n".join(line for line in lines if ",surname," not in line) + "\n")
    run = ReviewRun(run_dir)
    assert "crops/0000-a/p1-surname.crops.png" not in run.served_files()
    app = create_app(run, reviewed_dir=run_dir / "r", reviewer="ann", host=HOST)
    fresh = TestClient(app, base_url=BASE)
    listed = {f["field"]: f["in_review"] for f in fresh.get("/api/fields?document=a.png").json()}
    assert listed == {"account": True, "surname": False}
    reply = fresh.post("/api/pull", json=SURNAME, headers=ORIGIN).json()
    assert reply["saved"] and reply["total"] == 2
    assert "crops/0000-a/p1-surname.crops.png" in run.served_files()  # its crops are shown now
    [row] = [r for r in read_csv_rows(sheet) if r["field"] == "surname"]
    assert (row["value"], row["image"]) == ("GMRIGHT", "crops/0000-a/p1-surname.field.jpg")
    missing = {"document": "a.png", "page": 1, "field": "nope"}
    assert not fresh.post("/api/pull", json=missing, headers=ORIGIN).json()["saved"]


def test_a_run_from_before_field_review_gets_its_sheet(run_dir: Path) -> None:
    (run_dir / "review_fields.csv").unlink()
    assert ensure_sheet(run_dir) and ReviewRun(run_dir).progress() == (0, 2)
    assert not ensure_sheet(run_dir / "crops")  # not a run
