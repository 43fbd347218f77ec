"""What signing-in keeps for one web app (`app.state.auth`), opened on first use from the
App's settings: the session store and the throttle, side by side in state_dir/web."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cached_property

from starlette.requests import Request

from practicelake.app import App
from practicelake.settings import Settings
from practicelake.storage.private import private_folder
from practicelake.web.auth.database import Database
from practicelake.web.auth.sessions import SCHEMA as SESSIONS_SCHEMA
from practicelake.web.auth.sessions import SessionStore
from practicelake.web.auth.throttle import SCHEMA as THROTTLE_SCHEMA
from practicelake.web.auth.throttle import Throttle

UNKNOWN_ADDRESS = "unknown"


class SignInState:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def sessions(self) -> SessionStore:
        return SessionStore(
            Database(private_folder(self.settings.state_dir / "web") / "sessions.db", SESSIONS_SCHEMA),
            idle=timedelta(minutes=self.settings.session_idle_minutes),
            lifetime=timedelta(hours=self.settings.session_hours),
        )

    @cached_property
    def key(self) -> bytes:
        return self.sessions.signing_key()

    @cached_property
    def throttle(self) -> Throttle:
        return Throttle(
            Database(private_folder(self.settings.state_dir / "web") / "throttle.db", THROTTLE_SCHEMA),
            self.key,
            account_limit=self.settings.sign_in_attempts,
            address_limit=self.settings.sign_in_attempts_per_address,
            window=timedelta(minutes=self.settings.lockout_minutes),
        )


def sign_in_state(request: Request) -> SignInState:
    state = request.app.state.auth
    if not isinstance(state, SignInState):
        raise TypeError("the web app has no sign-in state: create it with create_app")
    return state


def core_of(request: Request) -> App:
    core = request.app.state.core
    if not isinstance(core, App):
        raise TypeError("the web app has no App: create it with create_app")
    return core


def now(request: Request) -> datetime:
    moment = request.app.state.clock()
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise TypeError("the web app's clock must give an aware datetime")
    return moment


def client_address(request: Request) -> str:
    return request.client.host if request.client else UNKNOWN_ADDRESS
