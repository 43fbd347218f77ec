"""Administration: a practice manager adds, disables and grants roles to the users of their
own practice, never beyond it; a platform admin reads the audit log (its verification and a
filtered view). Every change is an App action, on the audit log before it is carried out,
with the signed-in user as its actor; every form carries the session's CSRF token."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from practicelake.access.permissions import allows
from practicelake.access.principals import USER_NAME, PrincipalError, User
from practicelake.access.roles import EVERY_PRACTICE
from practicelake.audit.log import AuditFilter, AuditLogError
from practicelake.errors import PracticelakeError
from practicelake.web.deps import CsrfChecked, CurrentViewer, Viewer
from practicelake.web.templating import templates
from practicelake.web.views import core_of, navigation, practice_links, refuse

router = APIRouter(include_in_schema=False)
# The roles a practice's manager hands out: roles of the practice, never a cross-practice one.
PRACTICE_ROLES = ("practice_owner", "practice_manager", "billing", "staff")
AUDIT_PAGE = 100
AUDIT_KINDS = ("access", "admin")
OUTCOMES = ("allowed", "denied")


def _manager(request: Request, viewer: Viewer, practice_id: str) -> None:
    if practice_id not in core_of(request).settings.practices:
        raise refuse(request, viewer.principal, 404, "no such practice", practice_id=None)
    if not allows(viewer.principal, "users", practice_id):
        raise refuse(request, viewer.principal, 403, "you do not manage the users of this practice",
                     practice_id=practice_id)  # fmt: skip


def _members(users: list[User], practice_id: str) -> list[dict[str, Any]]:
    shown = []
    for user in users:
        roles = [g.role for g in user.grants if g.practice_id == practice_id]
        if roles:
            shown.append({"name": user.name, "disabled": user.disabled, "role": roles[0]})
    return shown


def _users_page(request: Request, viewer: Viewer, practice_id: str, *, message: str | None = None,
                error: str | None = None, status: int = 200) -> Response:  # fmt: skip
    core = core_of(request)
    context = {
        "viewer": viewer,
        "nav": navigation(viewer.principal, practice_id, "admin"),
        "practices": practice_links(core, viewer.principal, practice_id, "admin"),
        "practice_id": practice_id,
        "users": _members(core.users.list_users(), practice_id),
        "roles": list(PRACTICE_ROLES),
        "csrf_token": viewer.csrf_token,
        "message": message,
        "error": error,
    }
    return templates.TemplateResponse(request, "admin_users.html", context, status_code=status)


@router.get("/p/{practice_id}/admin/users", response_class=HTMLResponse)
def users_page(request: Request, practice_id: str, viewer: CurrentViewer) -> Response:
    _manager(request, viewer, practice_id)
    return _users_page(request, viewer, practice_id, message=DONE.get(request.query_params.get("done", "")))


# What the page says after a change: fixed words, so that a link cannot make it say anything.
DONE = {"added": "User added.", "disabled": "User disabled: their sessions and tokens have stopped.",
        "granted": "Role changed.", "revoked": "Role revoked."}  # fmt: skip


def _done(practice_id: str, what: str) -> Response:
    return RedirectResponse(f"/p/{practice_id}/admin/users?{urlencode({'done': what})}", status_code=303)


def _member(request: Request, viewer: Viewer, practice_id: str, name: str) -> User:
    """A user who holds a role in this practice only: one a manager of it may change."""
    found = [u for u in core_of(request).users.list_users() if u.name == name] if USER_NAME.fullmatch(name) else []
    if not found or not any(g.practice_id == practice_id for g in found[0].grants):
        raise refuse(request, viewer.principal, 404, "no such user in this practice", practice_id=practice_id)
    user = found[0]
    elsewhere = [g for g in user.grants if g.practice_id != practice_id]
    if elsewhere and not allows(viewer.principal, "users", EVERY_PRACTICE):
        raise refuse(request, viewer.principal, 403, "this user holds roles beyond this practice: the operator "
                     "manages them", practice_id=practice_id)  # fmt: skip
    return user


def _role(request: Request, viewer: Viewer, practice_id: str, role: str) -> str:
    if role not in PRACTICE_ROLES:
        raise refuse(request, viewer.principal, 403, "not a role of a practice", practice_id=practice_id)
    return role


@router.post("/p/{practice_id}/admin/users", response_class=HTMLResponse)
def add_user(request: Request, practice_id: str, viewer: CurrentViewer, _: CsrfChecked,
             name: Annotated[str, Form(max_length=64)], password: Annotated[str, Form(max_length=1024)],
             role: Annotated[str, Form(max_length=32)]) -> Response:  # fmt: skip
    _manager(request, viewer, practice_id)
    _role(request, viewer, practice_id, role)
    core = core_of(request)
    actor = viewer.principal.name
    try:
        core.add_user(name, password, actor=actor)
        core.grant(name, role, practice_id, actor=actor)
    except (PrincipalError, AuditLogError) as exc:
        return _users_page(request, viewer, practice_id, error=str(exc), status=400)
    return _done(practice_id, "added")


@router.post("/p/{practice_id}/admin/users/{name}/disable", response_class=HTMLResponse)
def disable_user(request: Request, practice_id: str, name: str, viewer: CurrentViewer, _: CsrfChecked) -> Response:
    _manager(request, viewer, practice_id)
    user = _member(request, viewer, practice_id, name)
    if user.name == viewer.principal.name:
        return _users_page(request, viewer, practice_id, error="you cannot disable yourself", status=400)
    try:
        core_of(request).disable_user(user.name, actor=viewer.principal.name)
    except PracticelakeError as exc:
        return _users_page(request, viewer, practice_id, error=str(exc), status=400)
    return _done(practice_id, "disabled")


@router.post("/p/{practice_id}/admin/users/{name}/grant", response_class=HTMLResponse)
def grant(request: Request, practice_id: str, name: str, viewer: CurrentViewer, _: CsrfChecked,
          role: Annotated[str, Form(max_length=32)]) -> Response:  # fmt: skip
    _manager(request, viewer, practice_id)
    user = _member(request, viewer, practice_id, name)
    _role(request, viewer, practice_id, role)
    core = core_of(request)
    held = [g.role for g in user.grants if g.practice_id == practice_id]
    try:
        for old in held:
            if old != role:
                core.revoke(user.name, old, practice_id, actor=viewer.principal.name)
        core.grant(user.name, role, practice_id, actor=viewer.principal.name)
    except PracticelakeError as exc:
        return _users_page(request, viewer, practice_id, error=str(exc), status=400)
    return _done(practice_id, "granted")


@router.post("/p/{practice_id}/admin/users/{name}/revoke", response_class=HTMLResponse)
def revoke(request: Request, practice_id: str, name: str, viewer: CurrentViewer, _: CsrfChecked,
           role: Annotated[str, Form(max_length=32)]) -> Response:  # fmt: skip
    _manager(request, viewer, practice_id)
    user = _member(request, viewer, practice_id, name)
    _role(request, viewer, practice_id, role)
    if user.name == viewer.principal.name:
        return _users_page(request, viewer, practice_id, error="you cannot revoke your own role", status=400)
    try:
        core_of(request).revoke(user.name, role, practice_id, actor=viewer.principal.name)
    except PracticelakeError as exc:
        return _users_page(request, viewer, practice_id, error=str(exc), status=400)
    return _done(practice_id, "revoked")


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, viewer: CurrentViewer) -> Response:
    core = core_of(request)
    if not allows(viewer.principal, "audit", EVERY_PRACTICE):
        raise refuse(request, viewer.principal, 403, "reading the audit log is the platform admin's", practice_id=None)
    query = request.query_params
    chosen = {k: query.get(k) or None for k in ("actor", "kind", "practice", "outcome")}
    if chosen["kind"] not in (None, *AUDIT_KINDS) or chosen["outcome"] not in (None, *OUTCOMES):
        raise refuse(request, viewer.principal, 400, "kind is access or admin; outcome allowed or denied",
                     practice_id=None)  # fmt: skip
    try:
        offset = max(0, min(int(query.get("offset", "0")), 1_000_000))
    except ValueError:
        offset = 0
    core.admin.record("audit.read", "audit log", actor=viewer.principal.name,
                      details={k: v for k, v in chosen.items() if v})  # fmt: skip
    verification = core.audit_log.verify()
    records = core.audit_log.show(AuditFilter(**chosen))  # type: ignore[arg-type]
    newest_first = list(reversed(records))
    page = newest_first[offset : offset + AUDIT_PAGE]
    entries = [
        {"time": r.time, "kind": r.kind, "actor": r.actor, "action": r.details.get("action", ""),
         "target": r.details.get("target", ""), "practices": ", ".join(r.practices) if r.practices else "all",
         "allowed": r.outcome == "allowed", "reason": r.details.get("reason", "")}
        for r in page
    ]  # fmt: skip
    base = {k: v for k, v in chosen.items() if v}
    more = offset + AUDIT_PAGE < len(newest_first)
    context = {
        "viewer": viewer,
        "nav": [],
        "practices": practice_links(core, viewer.principal, None, None),
        "verification": {
            "ok": verification.intact,
            "records": verification.records,
            "message": "the chain and its anchor are intact"
            if verification.intact
            else "; ".join(str(p) for p in verification.problems[:5]),
        },
        "entries": entries,
        "filters": chosen,
        "offset": offset,
        "limit": AUDIT_PAGE,
        "next_href": "/admin/audit?" + urlencode(base | {"offset": offset + AUDIT_PAGE}) if more else None,
        "prev_href": "/admin/audit?" + urlencode(base | {"offset": max(0, offset - AUDIT_PAGE)}) if offset else None,
    }
    return templates.TemplateResponse(request, "admin_audit.html", context)
