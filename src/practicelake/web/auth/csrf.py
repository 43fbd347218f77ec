"""Cross-site request forgery: tokens tied to a session or, before there is one, to the
sign-in form (OWASP CSRF Prevention Cheat Sheet: synchronizer token; signed double-submit
cookie against login CSRF), and the same-origin check of Fetch Metadata and Origin.

A session's token is an HMAC of its id under the signing key: it needs no storage, differs
for every session, and cannot be made without the id, which only the browser holds. The
sign-in form's token is an HMAC of a random pre-session cookie (`__Host-`: no other site,
not even a sibling subdomain, can set it), so a forged sign-in form cannot sign a victim in
as the attacker."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request

FORM_FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
# "none": the user's own navigation (a bookmark, the address bar), which no other site can start.
SAME_SITE_FETCH = ("same-origin", "none")
DEFAULT_PORTS = {"https": 443, "http": 80}


def _mac(key: bytes, purpose: bytes, value: str) -> str:
    digest = hmac.new(key, purpose + b"\n" + value.encode("utf-8", "surrogateescape"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def session_token(key: bytes, session_id: str) -> str:
    return _mac(key, b"csrf", session_id)


def new_pre_session() -> str:
    """The value of a new pre-session cookie: 256 random bits."""
    return secrets.token_urlsafe(32)


def pre_session_token(key: bytes, pre_session: str) -> str:
    return _mac(key, b"sign-in", pre_session)


def tokens_match(expected: str, given: str | None) -> bool:
    """Compared in constant time, so that the time taken tells nothing of the expected one."""
    if not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogateescape"))


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another site: Sec-Fetch-Site other
    than same-origin (or none), or an Origin other than this server's. Either header may be
    missing (an older browser, a script): the token is then the whole check."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site.lower() not in SAME_SITE_FETCH:
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    if origin == "null" and fetch_site is not None and fetch_site.lower() == "same-origin":
        # Under Referrer-Policy: no-referrer a browser sends `Origin: null` with a form POST
        # (Fetch, "append a request Origin header"); Sec-Fetch-Site, which no page can set,
        # still says where it came from.
        return True
    claimed = _origin_of(origin)
    return claimed is not None and claimed == _origin_of(f"{request.url.scheme}://{request.url.netloc}")


def _origin_of(text: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        port = parts.port or DEFAULT_PORTS.get(scheme, 0)
    except ValueError:
        return None
    if not parts.hostname or scheme not in DEFAULT_PORTS:
        return None  # "null" (a sandboxed or privacy-sensitive context) is nobody's origin
    return scheme, parts.hostname.lower(), port


async def submitted_token(request: Request) -> str | None:
    """The token a request carries: the header, else the form field of a form body."""
    header = request.headers.get(HEADER)
    if header is not None:
        return header
    if request.headers.get("content-type", "").split(";")[0].strip().lower() not in FORMS:
        return None
    value = (await request.form()).get(FORM_FIELD)
    return value if isinstance(value, str) else None
