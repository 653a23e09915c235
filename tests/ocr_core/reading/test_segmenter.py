"""Pages segmented in worker processes: the same cut as in process, the templates sent once."""

from __future__ import annotations

import gc
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ocr_core.reading import segmenter
from segmentation import iter_pages, load_templates, segment_page

ROOT = Path(__file__).resolve().parents[3]
PAGE = ROOT / "data" / "samples" / "nist-hsf-f0000_14.png"


def _cuts(result) -> list[tuple[str, str, tuple]]:
    return [(f.name, f.status, tuple(c.box for c in f.chars)) for f in result.fields]


def test_a_page_cut_in_a_worker_is_cut_as_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGITISE_SEGMENT_WORKERS", "2")
    templates = load_templates([ROOT / "data" / "templates"])
    page = next(iter_pages(PAGE))
    here = segment_page(page, templates)
    for _ in range(3):  # the first calls send the templates; later ones only their key
        there = segmenter.segment(page, templates)
        assert there.template == here.template == "nist-hsf"
        assert _cuts(there) == _cuts(here)
    if segmenter._pool is None:  # a single core, or a daemonic test process
        pytest.skip("no segmentation workers here")
    candidates = [f.lattice.candidates for f in there.fields if f.lattice is not None]
    assert candidates and all(c for c in candidates)


def test_the_templates_key_follows_fields_and_blank_forms() -> None:
    templates = load_templates([ROOT / "data" / "templates" / "nist-hsf.yaml"])
    key = segmenter.templates_key(templates)
    assert (
        segmenter.templates_key(load_templates([ROOT / "data" / "templates" / "nist-hsf.yaml"]))
        == key
    )
    moved = replace(templates[0], fields=templates[0].fields[1:])
    assert segmenter.templates_key([moved]) != key
    blank = templates[0].reference_image
    assert blank is not None
    edited = blank.copy()
    edited[100, 100] = 255 - edited[100, 100]
    assert segmenter.templates_key([replace(templates[0], reference_image=edited)]) != key
    assert (
        segmenter.templates_key([replace(templates[0], reference_image=np.zeros((2, 2), np.uint8))])
        != key
    )


def test_each_blank_is_hashed_once_while_it_lives_however_many_forms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A run reads with as many forms as its user has (36 in the random-style benchmark); the
    # key is taken for every page, and a blank is 8.7 MB to hash.
    template = load_templates([ROOT / "data" / "templates" / "nist-hsf.yaml"])[0]
    forms = [
        replace(template, name=f"form-{i}", reference_image=np.full((40, 30), i, np.uint8))
        for i in range(12)
    ]
    hashed: list[int] = []
    digest_of = segmenter._digest_of

    def counted(image: np.ndarray) -> bytes:
        hashed.append(int(image[0, 0]))
        return digest_of(image)

    monkeypatch.setattr(segmenter, "_digest_of", counted)
    first = segmenter.templates_key(forms)
    for _ in range(3):
        assert segmenter.templates_key(forms) == first
    assert sorted(hashed) == list(range(12))
    # A blank that is gone takes its digest with it.
    held = len(segmenter._digests)
    del forms
    gc.collect()
    assert len(segmenter._digests) == held - 12


def test_a_broken_pool_is_dropped_and_pages_are_cut_in_process(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    templates = load_templates([ROOT / "data" / "templates" / "nist-hsf.yaml"])
    page = next(iter_pages(PAGE))
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    assert pool.submit(int, "7").result() == 7
    for process in list(pool._processes.values()):  # a worker killed, as for memory
        process.kill()
        process.join()
    monkeypatch.setattr(segmenter, "_pool", pool)
    monkeypatch.setattr(segmenter, "_off", False)
    result = segmenter.segment(page, templates)
    assert _cuts(result) == _cuts(segment_page(page, templates))
    assert segmenter._pool is None and segmenter._off  # not started again
    assert "segmentation worker stopped" in caplog.text


def test_the_workers_of_a_pool_are_started_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # The one-shot command starts them while the server starts, and each run asks again.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    monkeypatch.setenv("DIGITISE_SEGMENT_WORKERS", "1")
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    submitted: list[object] = []
    submit = pool.submit

    def counted(fn: object, *args: object) -> object:  # the pool's own submit, counted
        submitted.append(fn)
        return submit(fn, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(pool, "submit", counted)
    monkeypatch.setattr(segmenter, "_pool", pool)
    monkeypatch.setattr(segmenter, "_off", False)
    monkeypatch.setattr(segmenter, "_started", None)
    try:
        segmenter.start_workers()
        segmenter.start_workers()
        assert submitted == [segmenter._ready] * segmenter._worker_count()
    finally:
        pool.shutdown()


KILLED_READER = """
import os, sys
from pathlib import Path
from ocr_core.reading import segmenter
from segmentation import iter_pages, load_templates
root = Path(sys.argv[1])
templates = load_templates([root / "data" / "templates" / "nist-hsf.yaml"])
segmenter.segment(next(iter_pages(root / "data" / "samples" / "nist-hsf-f0000_14.png")), templates)
print(" ".join(str(p.pid) for p in segmenter._pool._processes.values()), flush=True)
os.kill(os.getpid(), 9)  # killed: no chance to stop its pool
"""


def test_workers_of_a_killed_reader_do_not_outlive_it(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys
    import time

    env = {**os.environ, "DIGITISE_SEGMENT_WORKERS": "2"}
    done = subprocess.run(
        [sys.executable, "-c", KILLED_READER, str(ROOT)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    workers = [int(pid) for pid in done.stdout.split()]
    if not workers:
        pytest.skip(f"no segmentation workers here ({done.stderr[-300:]})")
    deadline = time.monotonic() + 15
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.5)
        alive = [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    assert not alive, f"workers {alive} still running after their reader was killed"
