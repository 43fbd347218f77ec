"""The two cookies of signing in. `__Host-` makes the browser refuse them unless Secure,
Path=/ and without Domain (RFC 6265bis 4.1.3.2), so no other host, not even a subdomain, can
set or overwrite them; HttpOnly keeps them from scripts; SameSite=Strict keeps them off
requests started by other sites."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

SESSION = "__Host-plk_session"
PRE_SESSION = "__Host-plk_pre"
PRE_SESSION_SECONDS = 60 * 60  # a sign-in form left open longer is sent again


def set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="strict")


def clear_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", secure=True, httponly=True, samesite="strict")


def cookie(request: Request, name: str) -> str | None:
    value = request.cookies.get(name)
    return value or None
