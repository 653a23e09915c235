"""The review station: a local web page to review one run's fields, every answer saved at once."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Literal

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ocr_core.errors import DigitiseError
from ocr_core.results.char_crops import FRAGMENT, crop_png, split_crop
from ocr_core.review.apply import apply_review
from ocr_core.review.station import ReviewRun, Verdict, state_of

LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]"})
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; "
        "form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class FieldRef(BaseModel):
    """A field of the run, as the page names it."""

    model_config = ConfigDict(extra="forbid")
    document: str = Field(max_length=1000)
    page: int = Field(ge=1, le=100_000)
    field: str = Field(max_length=200)

    @property
    def key(self) -> tuple[str, int, str]:
        """(document, page, field)."""
        return (self.document, self.page, self.field)


class Answer(FieldRef):
    """A reviewer's answer about a field."""

    action: Literal["accept", "correct", "unreadable", "reopen"]
    value: str = Field("", max_length=5000)  # a paragraph field can hold a few hundred

    @field_validator("value")
    @classmethod
    def _printable(cls, value: str) -> str:
        if CONTROL.search(value):
            raise ValueError("control characters are not allowed")
        return value.strip()


def create_app(run: ReviewRun, *, reviewed_dir: Path, reviewer: str, host: str) -> FastAPI:
    """The review station's app for one run.

    It serves only that run's field images and crops, writes only its review sheet (and, on
    apply, its reviewed results and ``reviewed_dir``), answers only requests addressed to
    ``host`` or a loopback name, and refuses any change requested from another origin.

    Args:
        run: the run under review.
        reviewed_dir: where apply-review stores the confirmed training examples.
        reviewer: who answers (recorded with every answer and example).
        host: the address the server is bound to.
    """
    app = FastAPI(title="Review station", docs_url=None, redoc_url=None, openapi_url=None)
    allowed_hosts = LOOPBACK | {host}

    @app.middleware("http")
    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        refusal = _refusal(request, allowed_hosts)
        if refusal:
            return JSONResponse({"detail": refusal}, status_code=403)
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    _add_pages(app, run)
    _add_api(app, run, reviewed_dir, reviewer)
    return app


def _add_pages(app: FastAPI, run: ReviewRun) -> None:
    """The page, its script, and the run's field images and crops (nothing else)."""

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        return _static("station.html")

    @app.get("/station.js")
    def script() -> Response:
        return Response(_static("station.js"), media_type="text/javascript")

    @app.get("/files/{path:path}")
    def files(path: str, xywh: str | None = None) -> Response:
        """A file of the review, or (``xywh``) a character's crop: its region of the file."""
        target = (run.run_dir / path).resolve()
        inside = target.is_relative_to(run.run_dir.resolve())
        if path not in run.served_files() or not inside or not target.is_file():
            raise HTTPException(404, "not a file of this run's review")
        if xywh is None:
            return FileResponse(target)
        png = crop_png(run.run_dir, f"{path}{FRAGMENT}{xywh}")
        if png is None:
            raise HTTPException(404, "no such region of this file")
        return Response(png, media_type="image/png")


def _add_api(app: FastAPI, run: ReviewRun, reviewed_dir: Path, reviewer: str) -> None:
    """The state, the answers, pulling a field into review, and applying the review."""

    @app.get("/api/state")
    def state() -> dict[str, object]:
        return _state(run, reviewer)

    @app.get("/api/fields")
    def document_fields(document: str) -> list[dict[str, object]]:
        return [
            {
                "page": k[1],
                "field": k[2],
                "value": f["value"],
                "status": f["status"],
                "in_review": run.find(k) is not None,
            }
            for k, f in run.fields.items()
            if k[0] == document
        ]

    @app.post("/api/answer")
    def answer(body: Answer) -> dict[str, object]:
        return _reply(run.answer(body.key, body.action, body.value, reviewer), run, reviewer)

    @app.post("/api/pull")
    def pull(body: FieldRef) -> dict[str, object]:
        return _reply(run.pull(body.key), run, reviewer)

    @app.post("/api/apply")
    def apply() -> dict[str, object]:
        try:
            outcome = apply_review(
                run.run_dir, run.run_dir / "review.csv", reviewed_dir, reviewer=reviewer
            )
        except DigitiseError as e:
            raise HTTPException(400, str(e)) from e
        return {"report": outcome.report()}


def _refusal(request: Request, allowed_hosts: frozenset[str] | set[str]) -> str:
    """Why a request is refused (another host name, another origin), or empty."""
    host = request.headers.get("host", "")
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if name not in allowed_hosts:
        return "unknown host"
    if request.method in ("GET", "HEAD"):
        return ""
    if request.headers.get("origin") != f"http://{host}":
        return "requests from another origin are refused"
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return "requests from another site are refused"
    if not request.headers.get("content-type", "").startswith("application/json"):
        return "JSON only"
    return ""


def _reply(verdict: Verdict, run: ReviewRun, reviewer: str) -> dict[str, object]:
    return {"saved": verdict.saved, "problems": list(verdict.problems), **_state(run, reviewer)}


def _state(run: ReviewRun, reviewer: str) -> dict[str, object]:
    answered, total = run.progress()
    return {
        "run": run.run_dir.name,
        "reviewer": reviewer,
        "answered": answered,
        "total": total,
        "apply_command": f"python -m flows.review apply {run.run_dir}",
        "documents": sorted({k[0] for k in run.fields}),
        "fields": [_item(run, row) for row in run.rows],
    }


def _crop_url(crop: str) -> str:
    """Where the page gets a crop: its file, with its region (if any) as ``xywh``."""
    path, rect = split_crop(crop)
    return f"/files/{path}" + (f"?xywh={','.join(map(str, rect))}" if rect else "")


def _item(run: ReviewRun, row: dict[str, str]) -> dict[str, object]:
    key = run.key_of(row)
    chars = sorted(run.chars.get(key, []), key=lambda c: int(c["index"]))
    return {
        "document": key[0],
        "page": key[1],
        "field": key[2],
        "value": row["value"],
        "reason": row["reason"],
        "image": f"/files/{row['image']}" if row["image"] else "",
        "state": state_of(row),
        "correction": row["correction"],
        "reviewer": row["reviewer"],
        "uncertain": [
            {
                "index": int(c["index"]),
                "crop": _crop_url(c["crop"]),
                "top": [
                    [c[a], c[p]]
                    for a, p in (
                        ("char", "confidence"),
                        ("alt1", "alt1_confidence"),
                        ("alt2", "alt2_confidence"),
                    )
                    if c[a]
                ],
            }
            for c in chars
            if c["needs_review"] == "true"
        ],
    }


def _static(name: str) -> str:
    return resources.files("ocr_core.review").joinpath("static", name).read_text(encoding="utf-8")


def serve(run: ReviewRun, *, reviewed_dir: Path, reviewer: str, host: str, port: int) -> None:
    """Serve the station until interrupted (Ctrl-C)."""
    import uvicorn

    app = create_app(run, reviewed_dir=reviewed_dir, reviewer=reviewer, host=host)
    uvicorn.run(app, host=host, port=port, log_level="warning")
