"""The annotator's HTTP routes (Starlette): the page, its JSON API and the frames, over one :class:`Annotator`.

=======  =========================  ==============================================================
GET      ``/``                      the page (``static/index.html``); ``/app.js``, ``/app.css``
GET      ``/api/meta``              video, keypoint names, skeleton edges, settings (θ, schedule)
GET      ``/api/status``            the background job: phase, epoch k of E_c, error; finished
GET      ``/api/query``             the current query with predictions, track neighbours and the answers so far
PUT      ``/api/answers/{sample}``  ``{"answer": [[x, y, v], ...] | "accept" | "skip" | "reject"}``: checked, saved
POST     ``/api/undo``              take back the last answer
POST     ``/api/submit``            hand the answers to the session: retrain, then the next query
POST     ``/api/stop``              end the run and export the poses
GET      ``/api/run``               labeled %, G_c and AP per cycle, the stopping status
GET      ``/api/samples/{id}/image`` the frame of sample ``id`` as JPEG (a sample id only, never a path)
GET      ``/explain``               the run's ``vatl explain`` report of the current cycle (made if missing)
=======  =========================  ==============================================================

Errors are JSON ``{"error": reason}``: 400 a malformed request, 404 an unknown sample or route, 409 the
session is busy or has no query, 413 a body over the limit, 415 a body that is not JSON, 422 an answer the
session refuses (``problems`` lists each one; nothing was stored), 401/403 no or a wrong token.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from vatl.annotate.annotator import Annotator, Busy, NoQuery
from vatl.annotate.images import SampleNotFound
from vatl.annotate.security import MAX_BODY_BYTES, BodyLimit, SecurityHeaders, TokenGuard, check_token
from vatl.atl.answers import AnswerError

STATIC = Path(__file__).parent / "static"
PAGES = {"/": ("index.html", "text/html"), "/app.js": ("app.js", "text/javascript"),
         "/app.css": ("app.css", "text/css")}


def build_app(annotator: Annotator, token: str, max_body_bytes: int = MAX_BODY_BYTES) -> Starlette:
    """The ASGI app: every request needs ``token``; bodies are limited to ``max_body_bytes``."""

    index = (STATIC / "index.html").read_text(encoding="utf-8").replace("__TOKEN__", check_token(token))

    def page(name: str, media_type: str):
        async def endpoint(request: Request) -> Response:
            if name == "index.html":  # its script and style links carry the token
                return HTMLResponse(index)
            return FileResponse(STATIC / name, media_type=media_type)
        return endpoint

    async def meta(request: Request) -> Response:
        return JSONResponse(annotator.meta())

    async def status(request: Request) -> Response:
        return JSONResponse(annotator.status())

    async def query(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(annotator.query))

    async def answer(request: Request) -> Response:
        body = await _json_body(request)
        if not isinstance(body, dict) or "answer" not in body or set(body) != {"answer"}:
            raise HTTPException(400, 'expected {"answer": [[x, y, v], ...] | "accept" | "skip" | "reject"}')
        value = body["answer"]
        if not isinstance(value, (str, list)):
            raise HTTPException(400, "an answer is a label [[x, y, v], ...] or one of accept, skip, reject; "
                                     f"got {type(value).__name__}")
        sample = request.path_params["sample"]
        return JSONResponse(await run_in_threadpool(annotator.answer, sample, value))

    async def undo(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(annotator.undo))

    async def submit(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(annotator.submit), status_code=202)

    async def stop(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(annotator.stop), status_code=202)

    async def run(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(annotator.run))

    async def image(request: Request) -> Response:
        data = await run_in_threadpool(annotator.image, request.path_params["sample"])
        return Response(data, media_type="image/jpeg")

    async def explain(request: Request) -> Response:
        from vatl.explain.links import REPORT_CSP, current_report_page

        status, page = await run_in_threadpool(current_report_page, annotator.session.store.root)
        return HTMLResponse(page, status_code=status, headers={"content-security-policy": REPORT_CSP})

    routes = [Route(path, page(name, media), methods=["GET"]) for path, (name, media) in PAGES.items()]
    routes += [
        Route("/api/meta", meta, methods=["GET"]),
        Route("/api/status", status, methods=["GET"]),
        Route("/api/query", query, methods=["GET"]),
        Route("/api/answers/{sample:int}", answer, methods=["PUT"]),
        Route("/api/undo", undo, methods=["POST"]),
        Route("/api/submit", submit, methods=["POST"]),
        Route("/api/stop", stop, methods=["POST"]),
        Route("/api/run", run, methods=["GET"]),
        Route("/api/samples/{sample:int}/image", image, methods=["GET"]),
        Route("/explain", explain, methods=["GET"]),
    ]
    handlers = {HTTPException: _http_error, AnswerError: _answer_error, Busy: _conflict, NoQuery: _conflict,
                SampleNotFound: _not_found}
    middleware = [Middleware(SecurityHeaders), Middleware(TokenGuard, token=token),
                  Middleware(BodyLimit, max_bytes=max_body_bytes)]
    return Starlette(routes=routes, middleware=middleware, exception_handlers=handlers)


async def _json_body(request: Request) -> Any:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise HTTPException(415, "the request body must be JSON (Content-Type: application/json)")
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HTTPException(400, f"the request body is not valid JSON ({exc})") from None
    except RecursionError:
        raise HTTPException(400, "the request body is nested too deeply to be an answer") from None


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code)


async def _answer_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AnswerError)
    return JSONResponse({"error": str(exc), "problems": exc.problems}, status_code=422)


async def _conflict(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=409)


async def _not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=404)
