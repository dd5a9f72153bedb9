"""The review service's HTTP API (FastAPI): cases, segmentation jobs, results, the page.

Contract (``docs/serve.md`` has the examples)::

    GET  /healthz               {"status": "ok", "model": {...}, "queue": {...}, "max_upload_bytes"}
    GET  /                                         the review page
    POST /api/cases          multipart image(s) + note [+ series]   201 {"case_id", ...}
    GET  /api/cases                                stored cases, newest first
    GET  /api/cases/{case_id}                      the case and its jobs
    GET  /api/cases/{case_id}/view                 the image for the page (uint8, compact)
    POST /api/cases/{case_id}/segment   {"note", "explain"}   202 {"job_id"}
                                    (note: default the case's; explain: default false, true
                                    also attributes the contour to the note's clauses)
    GET  /api/jobs/{job_id}                        {"status", "error", "result", ...}
    GET  /api/jobs/{job_id}/view                   the mask for the page
    GET  /api/cases/{case_id}/results/{job_id}/{mask.nii.gz|seg.dcm|rtstruct.dcm}
    POST /api/deid           {"note"}              {"text"}: what the model sees of a note

Errors: 401 without the bearer token (when one is configured), 404 unknown ids or files,
409 a job not finished yet, 413 a body over the upload cap (``{"detail", "max_upload_bytes"}``,
sent once the client has stopped sending, :mod:`oncoseg.serve.body_limit`; nothing is
stored), 415 not a multipart upload, 422 bad image or note (``{"detail", "field"}``), 503 +
``Retry-After`` when the job queue is full.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from oncoseg.io.image import load_image
from oncoseg.serve.body_limit import UploadLimitMiddleware
from oncoseg.serve.jobs import JobQueue, QueueFull
from oncoseg.serve.runner import SegmentModel, run_job
from oncoseg.serve.store import Store
from oncoseg.serve.uploads import (
    ZIP_EXPANSION,
    FieldError,
    check_note,
    load_case_images,
    store_case,
)
from oncoseg.serve.views import display_mask, display_volume

log = logging.getLogger(__name__)
MAX_IMAGE_PARTS = 8


def _static(name: str) -> str:
    return (resources.files("oncoseg.serve") / "static" / name).read_text(encoding="utf-8")


def _bearer(token: str | None) -> Any:
    """A dependency that refuses API calls without ``Authorization: Bearer <token>``."""

    async def check(authorization: str | None = Header(None)) -> None:
        if token is None:
            return
        scheme, _, value = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(
            value.strip().encode(), token.encode()
        ):
            raise HTTPException(
                401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"}
            )

    return check


def create_app(
    model: SegmentModel,
    data_dir: Path,
    *,
    model_info: dict[str, Any] | None = None,
    max_upload_bytes: int = 512 * 2**20,
    max_queue: int = 16,
    token: str | None = None,
    run_name: str = "",
) -> FastAPI:
    """The service around one loaded model; cases and results live under ``data_dir``.

    Args:
        model: the segmenter (an :class:`oncoseg.infer.Predictor`; tests pass stand-ins).
        data_dir: the ``--data`` folder (created when missing).
        model_info: what ``/healthz`` says about the model.
        max_upload_bytes: request bodies over this get 413.
        max_queue: jobs that may wait; one more gets 503.
        token: the bearer token every ``/api`` call needs (None: no token).
        run_name: the training run recorded in DICOM outputs.
    """
    store = Store(data_dir)
    jobs = JobQueue(store, lambda job: run_job(model, store, job, run_name), max_queue)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        jobs.start()
        yield
        jobs.stop()

    app = FastAPI(title="oncoseg review service", lifespan=lifespan)
    app.add_middleware(UploadLimitMiddleware, max_body_size=max_upload_bytes)  # readable 413
    app.state.jobs, app.state.store = jobs, store

    @app.exception_handler(FieldError)
    async def _field_error(_: Request, exc: FieldError) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "field": exc.field}, status_code=422)

    _open_routes(app, model, jobs, model_info or {}, max_upload_bytes)
    api = APIRouter(prefix="/api", dependencies=[Depends(_bearer(token))])
    _case_routes(api, model, store, max_upload_bytes)
    _job_routes(api, model, store, jobs)
    app.include_router(api)
    return app


def _open_routes(
    app: FastAPI,
    model: SegmentModel,
    jobs: JobQueue,
    model_info: dict[str, Any],
    max_upload_bytes: int,
) -> None:
    """Liveness and the page itself: no token needed (the page asks for it). The page checks
    a file's size against ``max_upload_bytes`` before it sends it."""

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {
            "status": "ok",
            "model": {**model_info, "uses_text": model.uses_text},
            "queue": {"waiting": jobs.waiting, "max": jobs.max_queue},
            "max_upload_bytes": max_upload_bytes,
        }

    @app.get("/", response_class=HTMLResponse)
    async def page() -> str:
        return _static("review.html")

    @app.get("/static/review.js")
    async def page_script() -> Response:
        return Response(_static("review.js"), media_type="text/javascript")


def _case_routes(api: APIRouter, model: SegmentModel, store: Store, max_upload: int) -> None:
    channels = len(model.plan.channel_names)

    @api.post("/cases", status_code=201)
    async def create_case(request: Request) -> dict[str, Any]:
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise HTTPException(415, "expected a multipart/form-data upload (image, note)")
        async with request.form(max_files=MAX_IMAGE_PARTS, max_fields=8) as form:
            images = form.getlist("image")
            if any(isinstance(i, str) for i in images):
                raise FieldError("image", "expected file parts, got text")
            raw = await _note_field(form.get("note"))
            note = await run_in_threadpool(check_note, raw, model.uses_text)
            series = form.get("series")
            case = await run_in_threadpool(
                store_case,
                store,
                images,  # type: ignore[arg-type]  # UploadFile parts, checked above
                note,
                channels,
                max_upload * ZIP_EXPANSION,
                series if isinstance(series, str) and series else None,
            )
        log.info("case %s stored (%s, %d channel(s))", case.case_id, case.kind, case.channels)
        return case.public()

    @api.get("/cases")
    async def list_cases() -> list[dict[str, Any]]:
        return [c.public() for c in store.cases()]

    @api.get("/cases/{case_id}")
    async def get_case(case_id: str) -> dict[str, Any]:
        case = _case(store, case_id)
        jobs = [j.public() for j in store.jobs() if j.case_id == case_id]
        return {**case.public(), "jobs": jobs}

    @api.get("/cases/{case_id}/view")
    async def case_view(case_id: str) -> dict[str, Any]:
        case = _case(store, case_id)
        images = await run_in_threadpool(load_case_images, store, case)
        return await run_in_threadpool(display_volume, images[0])

    @api.post("/deid")
    async def deid_preview(request: Request) -> dict[str, str]:
        note = (await _json(request)).get("note")  # de-identified off the event loop
        return {"text": await run_in_threadpool(check_note, note, False)}


def _job_routes(api: APIRouter, model: SegmentModel, store: Store, jobs: JobQueue) -> None:
    @api.post("/cases/{case_id}/segment", status_code=202)
    async def segment(case_id: str, request: Request) -> Any:
        case = _case(store, case_id)
        body = await _json(request)
        if body.get("note") is None:
            note = case.note
        else:
            note = await run_in_threadpool(check_note, body["note"], False)
        if model.uses_text and not note.strip():
            raise FieldError("note", "empty; this model reads the clinical note")
        explain = _explain_field(body.get("explain", False), model.uses_text)
        try:
            job = jobs.submit(case.case_id, note, explain)
        except QueueFull as exc:
            return JSONResponse(
                {"detail": str(exc)}, status_code=503, headers={"Retry-After": str(exc.retry_after)}
            )
        return {"job_id": job.job_id, "status": job.status}

    @api.get("/jobs/{job_id}")
    async def get_job(job_id: str) -> dict[str, Any]:
        job = jobs.get(job_id)
        if job is None:
            raise HTTPException(404, f"job {job_id!r} not found")
        return job.public()

    @api.get("/jobs/{job_id}/view")
    async def job_view(job_id: str) -> dict[str, Any]:
        job = jobs.get(job_id)
        if job is None:
            raise HTTPException(404, f"job {job_id!r} not found")
        path = store.result_file(job.case_id, job_id, "mask.nii.gz")
        if path is None:
            raise HTTPException(409, f"job {job_id} is {job.status}, no mask to show")
        return await run_in_threadpool(lambda: display_mask(load_image(path)))

    @api.get("/cases/{case_id}/results/{job_id}/{name}")
    async def result(case_id: str, job_id: str, name: str) -> FileResponse:
        _case(store, case_id)
        job = jobs.get(job_id)
        if job is None or job.case_id != case_id:
            raise HTTPException(404, f"job {job_id!r} not found for case {case_id}")
        if job.status != "done":
            raise HTTPException(409, f"job {job_id} is {job.status}")
        path = store.result_file(case_id, job_id, name)
        if path is None:
            raise HTTPException(404, f"{name!r}: no such result (this job has {_names(job)})")
        return FileResponse(path, filename=name, media_type=_media_type(name))


def _case(store: Store, case_id: str) -> Any:
    case = store.case(case_id)
    if case is None:
        raise HTTPException(404, f"case {case_id!r} not found")
    return case


async def _json(request: Request) -> dict[str, Any]:
    """The request's JSON object; an empty body is ``{}``; anything else is a 422."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = await request.json()
    except ValueError as exc:
        raise FieldError("body", f"not valid JSON ({exc})") from exc
    if not isinstance(body, dict):
        raise FieldError("body", f"expected a JSON object, got {type(body).__name__}")
    return body


def _explain_field(value: Any, uses_text: bool) -> bool:
    """The segment request's ``explain`` flag: JSON true/false (absent or null: false)."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise FieldError("explain", f"expected true or false, got {value!r}")
    if value and not uses_text:
        raise FieldError("explain", "this model does not read the note: nothing to explain")
    return value


async def _note_field(value: Any) -> Any:
    """The note form field as text; a note sent as a file part must be UTF-8."""
    if not isinstance(value, UploadFile):
        return value
    try:
        return (await value.read()).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FieldError("note", f"not UTF-8 text (invalid byte at offset {exc.start})") from exc


def _names(job: Any) -> str:
    return ", ".join((job.result or {}).get("files", {})) or "no files"


def _media_type(name: str) -> str:
    return "application/dicom" if name.endswith(".dcm") else "application/gzip"
