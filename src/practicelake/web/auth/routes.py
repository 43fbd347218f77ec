"""Signing in and out, and changing one's password: the pages and their forms.

A sign-in that succeeds starts a new session with a new id, whatever session cookie the
browser had (which is ended): an id planted before sign-in is never the one after it
(OWASP Session Fixation). A password change ends every session of the user and renews the
one it was made in."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from practicelake.access.principals import PrincipalError
from practicelake.web.auth.attempts import Attempt, Refused
from practicelake.web.auth.cookies import PRE_SESSION, PRE_SESSION_SECONDS, SESSION, clear_cookie, cookie, set_cookie
from practicelake.web.auth.csrf import new_pre_session, pre_session_token, same_origin, tokens_match
from practicelake.web.auth.redirect import SIGN_IN, after_sign_in
from practicelake.web.auth.sessions import Session, id_hash
from practicelake.web.auth.state import client_address, core_of, now, sign_in_state
from practicelake.web.deps import CsrfChecked, CurrentViewer, Viewer, session_viewer
from practicelake.web.templating import templates

router = APIRouter(include_in_schema=False)

REFUSED = "Unknown user name or wrong password."
LOCKED = "Unknown user name or wrong password, or too many failed attempts: try again later."
EXPIRED = "This form has expired or did not come from this site: please sign in again."
WRONG_CURRENT = "The current password is wrong."
WRONG_CURRENT_LOCKED = "The current password is wrong, or there were too many failed attempts: try again later."
MISMATCH = "The new password and its confirmation differ."
LONGEST_PRE_SESSION = 64

Text = Annotated[str, Form()]


@router.get("/sign-in")
def sign_in_page(request: Request, next_path: Annotated[str, Query(alias="next")] = "/") -> Response:
    return _sign_in_form(request, None, after_sign_in(next_path), 200)


@router.post("/sign-in")
def sign_in(
    request: Request,
    user: Text = "",
    password: Text = "",
    csrf_token: Text = "",
    next_path: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    state = sign_in_state(request)
    target = after_sign_in(next_path)
    pre_session = cookie(request, PRE_SESSION)
    if not same_origin(request) or pre_session is None:
        return _sign_in_form(request, EXPIRED, target, 403)
    if not tokens_match(pre_session_token(state.key, pre_session), csrf_token):
        return _sign_in_form(request, EXPIRED, target, 403)
    core = core_of(request)
    try:
        Attempt(request, "sign-in", user).run(password, lambda: core.users.authenticate_password(user, password))
    except Refused as refused:
        return _sign_in_form(request, LOCKED if refused.locked else REFUSED, target, 401)
    stamp = core.users.credential_stamp(user)
    if stamp is None:  # disabled between the check and now
        return _sign_in_form(request, REFUSED, target, 401)
    planted = cookie(request, SESSION)
    if planted is not None:
        state.sessions.end(id_hash(planted))
    with core.admin.acting("sign-in", user, actor=user, details={"address": client_address(request)}):
        session_id, session = state.sessions.start(user, stamp, now(request))
    response = RedirectResponse(target, status_code=303)
    _give_session(request, response, session_id, session)
    clear_cookie(response, PRE_SESSION)
    return response


@router.post("/sign-out")
def sign_out(request: Request, viewer: CsrfChecked) -> Response:
    response = RedirectResponse(SIGN_IN, status_code=303)
    if viewer.session_id_hash is not None:
        admin = core_of(request).admin
        with admin.acting("sign-out", viewer.principal.name, actor=viewer.principal.name):
            sign_in_state(request).sessions.end(viewer.session_id_hash)
        clear_cookie(response, SESSION)
    return response


@router.get("/account/password")
def password_page(request: Request, viewer: CurrentViewer) -> Response:
    return _password_form(request, viewer, None, False, 200)


@router.post("/account/password")
def change_password(
    request: Request, viewer: CsrfChecked, current: Text = "", new: Text = "", confirm: Text = ""
) -> Response:
    if new != confirm:
        return _password_form(request, viewer, MISMATCH, False, 400)
    core, state, name = core_of(request), sign_in_state(request), viewer.principal.name
    attempt = Attempt(request, "password.change", name, check_records=True)
    try:
        attempt.run(current, lambda: core.change_password(name, current, new))
    except Refused as refused:
        return _password_form(request, viewer, WRONG_CURRENT_LOCKED if refused.locked else WRONG_CURRENT, False, 400)
    except PrincipalError as exc:
        problem = str(exc)
        return _password_form(request, viewer, f"{problem[:1].upper()}{problem[1:]}.", False, 400)
    stamp = core.users.credential_stamp(name)
    state.sessions.end_all(name)
    if stamp is None or viewer.via != "session":
        return RedirectResponse(SIGN_IN, status_code=303)
    session_id, session = state.sessions.start(name, stamp, now(request))
    renewed = session_viewer(request, session_id)
    if renewed is None:
        return RedirectResponse(SIGN_IN, status_code=303)
    response = _password_form(request, renewed, None, True, 200)
    _give_session(request, response, session_id, session)
    return response


def _give_session(request: Request, response: Response, session_id: str, session: Session) -> None:
    # The cookie lasts no longer than the session can: its absolute end.
    seconds = int((session.expires_at - now(request)).total_seconds())
    set_cookie(response, SESSION, session_id, max_age=max(seconds, 0))


def _sign_in_form(request: Request, error: str | None, target: str, status: int) -> Response:
    key = sign_in_state(request).key
    pre_session = cookie(request, PRE_SESSION)
    if pre_session is None or len(pre_session) > LONGEST_PRE_SESSION:
        pre_session = new_pre_session()
    context: dict[str, Any] = {
        "error": error,
        "next": target,
        "csrf_token": pre_session_token(key, pre_session),
        "viewer": None,
    }
    response = templates.TemplateResponse(request, "sign_in.html", context, status_code=status)
    set_cookie(response, PRE_SESSION, pre_session, max_age=PRE_SESSION_SECONDS)
    return response


def _password_form(request: Request, viewer: Viewer, error: str | None, done: bool, status: int) -> Response:
    context: dict[str, Any] = {"error": error, "done": done, "csrf_token": viewer.csrf_token or "", "viewer": viewer}
    return templates.TemplateResponse(request, "password.html", context, status_code=status)
