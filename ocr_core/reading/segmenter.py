"""Pages segmented in worker processes: one core cuts a page while another reads one.

Segmentation is Python and NumPy code that holds the interpreter lock for most of its ~0.3 s
a page, so in the flow's two reading threads it takes turns with the models and the file
writes instead of running beside them. Worker processes take it off the reading process.
They are spawned, so they import ``segmentation`` and never TensorFlow, and they live as long
as the process that reads (one start, about a second, however many pages follow).

A page goes to a worker with a key to its templates. A template can carry its blank form
(8.5 MB for the NIST form), more than the page itself, so each worker keeps the templates it
was sent and is sent them again only when it lacks them.

Where workers cannot run, pages are segmented in process, as before:
- ``DIGITISE_SEGMENT_WORKERS=0`` or a single core;
- a daemonic process (a Dask worker may not have children);
- a pool that broke, for instance a worker killed for memory: it is dropped and not started
  again, with one warning.

A worker whose reading process is killed (so that it cannot stop its pool) exits by itself
within a second or so.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import multiprocessing
import os
import pickle
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace

import numpy as np

from segmentation import segment_page
from segmentation.records import PageResult, Template

log = logging.getLogger(__name__)
KEPT = 4  # template sets a worker keeps

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_off = False  # workers cannot run here, or broke: segment in process from now on
_started: ProcessPoolExecutor | None = None  # the pool whose workers start_workers started
_digests: dict[int, tuple[weakref.ref[np.ndarray], bytes]] = {}  # id -> (array, digest)
_known: OrderedDict[str, list[Template]] = OrderedDict()  # in a worker: key -> templates


def segment(page: np.ndarray, templates: Sequence[Template]) -> PageResult:
    """``segmentation.segment_page`` for one page, in a worker process where one can run."""
    pool = _workers()
    if pool is not None:
        try:
            key = templates_key(templates)
            result = pool.submit(_segment_known, page, key).result()
            if result is None:  # that worker has not been sent these templates yet
                result = pool.submit(_segment_with, page, key, list(templates)).result()
            return result
        except BrokenProcessPool as e:
            _stop(f"a segmentation worker stopped ({e}); pages are segmented in process")
    return segment_page(page, templates)


def start_workers() -> None:
    """Start the segmentation workers now, without waiting for them (once per pool).

    A worker takes about a second to start (a new interpreter importing ``segmentation``).
    Started while the Prefect server starts (``context.prepare_run``) or while the run loads
    its models, they are ready when the first page comes instead of starting then. Each run
    asks (``open_run``); a pool already started is left alone.
    """
    global _started
    pool = _workers()
    with _lock:
        if pool is None or pool is _started:
            return
        _started = pool
    for _ in range(_worker_count()):
        pool.submit(_ready)


def _ready() -> None:
    """In a worker: nothing (submitting it makes the pool start a worker)."""


def templates_key(templates: Sequence[Template]) -> str:
    """A digest of the templates: their fields and settings, and their blank forms' pixels."""
    digest = hashlib.blake2b(digest_size=16)
    for template in templates:
        digest.update(pickle.dumps(replace(template, reference_image=None)))
        if template.reference_image is not None:
            digest.update(_pixels_digest(template.reference_image))
    return digest.hexdigest()


def _pixels_digest(image: np.ndarray) -> bytes:
    """The digest of an image's pixels, computed once per array for as long as it lives.

    Every page computes the key, so a blank form's digest is kept with a weak reference to
    its array, however many forms a run reads with: kept for only the last four, a run of 36
    forms with blanks hashed most of their 8.7 MB blanks again for every page (0.4 s a page).
    """
    key = id(image)
    with _lock:
        seen = _digests.get(key)
    if seen is not None and seen[0]() is image:
        return seen[1]
    value = _digest_of(image)
    with _lock:
        _digests[key] = (weakref.ref(image, functools.partial(_forget, key)), value)
    return value


def _digest_of(image: np.ndarray) -> bytes:
    return hashlib.blake2b(np.ascontiguousarray(image).tobytes(), digest_size=16).digest()


def _forget(key: int, ref: weakref.ref[np.ndarray]) -> None:
    """Drop a digest whose array is gone.

    Called as the array is freed, before its id can be reused; without the lock, which the
    thread freeing it may hold.
    """
    entry = _digests.get(key)
    if entry is not None and entry[0] is ref:
        _digests.pop(key, None)


def _segment_known(page: np.ndarray, key: str) -> PageResult | None:
    """In a worker: the page segmented with the templates of ``key``; None if not sent them."""
    templates = _known.get(key)
    return None if templates is None else segment_page(page, templates)


def _segment_with(page: np.ndarray, key: str, templates: list[Template]) -> PageResult:
    """In a worker: keep the templates under ``key``, then segment the page with them."""
    _known[key] = templates
    while len(_known) > KEPT:
        _known.popitem(last=False)
    return segment_page(page, templates)


def _workers() -> ProcessPoolExecutor | None:
    global _pool, _off
    with _lock:
        if _pool is None and not _off:
            count = _worker_count()
            if count < 1 or multiprocessing.current_process().daemon:
                _off = True
            else:
                context = multiprocessing.get_context("spawn")
                _pool = ProcessPoolExecutor(
                    count, mp_context=context, initializer=_watch_parent, initargs=(os.getpid(),)
                )
        return _pool


def _watch_parent(parent: int) -> None:
    """In a worker: exit once the reading process is gone (killed, it could not stop us)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def _worker_count() -> int:
    from ocr_core.settings import load_settings

    cores = os.cpu_count() or 1
    return min(load_settings().segment_workers, cores) if cores > 1 else 0


def _stop(why: str) -> None:
    global _pool, _off
    with _lock:
        pool, _pool, _off = _pool, None, True
    if pool is not None:
        log.warning(why)
        pool.shutdown(wait=False, cancel_futures=True)
