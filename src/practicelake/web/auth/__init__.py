"""Signing in to the dashboard: argon2id passwords (access.principals), server-side
sessions (sessions), CSRF tokens (csrf), throttling and temporary lockout (throttle), and
the sign-in, sign-out and password pages (routes). Who is asking is decided by web.deps."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from practicelake.app import App
from practicelake.web.auth.cookies import SESSION, clear_cookie
from practicelake.web.auth.redirect import sign_in_url
from practicelake.web.auth.state import SignInState


def install(app: FastAPI) -> None:
    """Sign-in's state (opened on first use), its pages, and the answer to a request
    without an identity."""
    # web.deps and the routes import this package's modules: imported here, not above, so
    # that either may be imported first.
    from practicelake.web.auth.routes import router
    from practicelake.web.deps import SignInRequired, is_api

    core = app.state.core
    if not isinstance(core, App):
        raise TypeError("set app.state.core to the App before installing signing-in")
    app.state.auth = SignInState(core.settings)

    async def sign_in_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequired)
        response: Response
        if is_api(request):
            response = JSONResponse({"detail": exc.detail}, status_code=401, headers=exc.headers)
        else:
            response = RedirectResponse(sign_in_url(request), status_code=303)
        if exc.ended_session:
            clear_cookie(response, SESSION)
        return response

    app.add_exception_handler(SignInRequired, sign_in_required)
    app.include_router(router)
