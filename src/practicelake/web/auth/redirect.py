"""Where a browser is sent after signing in: only a path on this site (no open redirect,
OWASP Unvalidated Redirects and Forwards)."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from starlette.requests import Request

HOME = "/"
SIGN_IN = "/sign-in"
LONGEST = 2000


def local_path(text: str | None) -> str | None:
    """`text` when it is a path and query of this site: one leading "/", no scheme or host,
    no backslash (which browsers read as "/"), no control characters; None otherwise."""
    if not text or len(text) > LONGEST or not text.startswith("/") or text.startswith("//"):
        return None
    if "\\" in text or any(ord(character) < 0x20 or ord(character) == 0x7F for character in text):
        return None
    parts = urlsplit(text)
    if parts.scheme or parts.netloc:
        return None
    return text


def after_sign_in(text: str | None) -> str:
    return local_path(text) or HOME


def sign_in_url(request: Request) -> str:
    """The sign-in page, told to come back to this page (a GET only: a form sent again
    after signing in would be sent without the user seeing it)."""
    if request.method not in ("GET", "HEAD"):
        return SIGN_IN
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = local_path(here)
    if target is None or target == HOME:
        return SIGN_IN
    return f"{SIGN_IN}?{urlencode({'next': target})}"
