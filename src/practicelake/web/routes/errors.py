"""Errors as the viewer should see them: a page for the dashboard, JSON for the API, one line
that says what is wrong and never a traceback or an internal message."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from practicelake.errors import PracticelakeError
from practicelake.web.templating import templates
from practicelake.web.views import Refused

log = logging.getLogger("practicelake.web")
UNFORESEEN = "something went wrong on the server; it has been logged"


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(request: Request, status: int, message: str) -> Response:
    if is_api(request):
        return JSONResponse({"detail": message}, status_code=status)
    context = {"status": status, "message": message, "viewer": None, "nav": [], "practices": []}
    return templates.TemplateResponse(request, "error.html", context, status_code=status)


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    return error_response(request, exc.status, exc.message)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "request refused"
    response = error_response(request, exc.status_code, message)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    return error_response(request, 422, f"{where}: {first.get('msg', 'not valid')}" if where else "request not valid")


async def _practicelake(request: Request, exc: Exception) -> Response:
    # A practicelake error is meant for its user: one line, no internals (the read path's
    # messages say only what the reader may know).
    return error_response(request, 400, str(exc).splitlines()[0] if str(exc) else "request refused")


async def _unforeseen(request: Request, exc: Exception) -> Response:
    log.error("unforeseen error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return error_response(request, 500, UNFORESEEN)


def install(app: FastAPI) -> None:
    app.add_exception_handler(Refused, _refused)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(PracticelakeError, _practicelake)
    app.add_exception_handler(Exception, _unforeseen)
