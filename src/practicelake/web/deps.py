"""Who is asking, as typed dependencies of the routes.

`CurrentViewer`: the signed-in user of a dashboard session (the session cookie), or the
owner of an API token (`Authorization: Bearer plk_...`, on /api/ paths only: a token must
never turn a page into something a link on another site can use). Each request checks the
user again: a disabled user, or one whose password has changed since the session began, is
signed out there and then. Without an identity, a page redirects to the sign-in page and
the API answers 401.

`CsrfChecked`: the same, and for a state-changing request made with a session cookie, the
session's CSRF token (form field `csrf_token` or header `X-CSRF-Token`) and a same-origin
browser; refused with 403. A bearer request needs neither: no browser adds that header by
itself.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Request

from practicelake.access.principals import REFUSED_BEARER, AuthenticationError, Principal
from practicelake.app import App
from practicelake.query.identity import identify
from practicelake.web.auth.cookies import SESSION, cookie
from practicelake.web.auth.csrf import same_origin, session_token, submitted_token, tokens_match
from practicelake.web.auth.state import core_of, now, sign_in_state

API_PREFIX = "/api/"
NOT_SIGNED_IN = "sign in, or send an API token: Authorization: Bearer plk_..."
CROSS_SITE = "refused: this request did not come from a page of this site"
EXPIRED_FORM = "refused: the form has expired or did not come from this site; reload the page and try again"
# RFC 9110 9.2.1: the methods that change nothing.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SignInRequired(HTTPException):
    """No valid identity: a page redirects to the sign-in page, the API answers 401
    (web.auth turns this into the response)."""

    def __init__(self, detail: str = NOT_SIGNED_IN, *, ended_session: bool = False) -> None:
        super().__init__(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})
        self.ended_session = ended_session
        """The request's session cookie names no live session: the answer clears it."""


@dataclass(frozen=True)
class Viewer:
    principal: Principal
    via: Literal["session", "token"]
    session_id_hash: str | None
    """SHA-256 of the session id (a session only): what the session store keys it by."""
    csrf_token: str | None
    """The session's CSRF token, for the forms of its pages (a session only)."""


def is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def current_viewer(request: Request) -> Viewer:
    core = core_of(request)
    authorization = request.headers.get("authorization")
    if authorization is not None and is_api(request):
        return _token_viewer(core, authorization)
    session_id = cookie(request, SESSION)
    viewer = session_viewer(request, session_id) if session_id else None
    if viewer is None:
        raise SignInRequired(ended_session=session_id is not None)
    return viewer


def session_viewer(request: Request, session_id: str) -> Viewer | None:
    """The viewer of a live session whose user still holds the credentials it began with;
    None otherwise (a session whose user is disabled or changed password is deleted)."""
    state = sign_in_state(request)
    session = state.sessions.find(session_id, now(request))
    if session is None:
        return None
    principal = user_principal(core_of(request), session.user, session.credential_stamp)
    if principal is None:
        state.sessions.end(session.id_hash)
        return None
    return Viewer(principal, "session", session.id_hash, session_token(state.key, session_id))


def user_principal(core: App, name: str, credential_stamp: str) -> Principal | None:
    """`name` as a principal with the roles they hold now, while their credential stamp is
    `credential_stamp`; None for a disabled or unknown user, or a stamp that has changed."""
    current = core.users.credential_stamp(name)
    if current is None or not hmac.compare_digest(current, credential_stamp):
        return None
    return Principal(name=name, kind="user", roles=core.users.roles(name))


def _token_viewer(core: App, authorization: str) -> Viewer:
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise SignInRequired()
    try:
        principal = identify(core.users, core.admin, user=None, password=None, token=token.strip())
    except AuthenticationError:
        raise SignInRequired(REFUSED_BEARER) from None
    return Viewer(principal, "token", None, None)


async def csrf_checked(request: Request, viewer: Annotated[Viewer, Depends(current_viewer)]) -> Viewer:
    if request.method in SAFE_METHODS or viewer.via != "session":
        return viewer
    if not same_origin(request):
        raise HTTPException(status_code=403, detail=CROSS_SITE)
    if viewer.csrf_token is None or not tokens_match(viewer.csrf_token, await submitted_token(request)):
        raise HTTPException(status_code=403, detail=EXPIRED_FORM)
    return viewer


CurrentViewer = Annotated[Viewer, Depends(current_viewer)]
CsrfChecked = Annotated[Viewer, Depends(csrf_checked)]
