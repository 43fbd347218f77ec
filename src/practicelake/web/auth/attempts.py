"""A password tried through the web: the throttle asked first, the outcome counted and put on
the audit log. The refusals never say whether the user exists or, during a lockout, whether
the password was right."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from starlette.requests import Request

from practicelake.access.principals import MAX_PASSWORD, REFUSED_LOGIN, AuthenticationError
from practicelake.web.auth.state import client_address, core_of, now, sign_in_state
from practicelake.web.auth.throttle import Scope

T = TypeVar("T")
LONGEST_NAME = 256  # far beyond any user name (64): longer text is refused without a hash check


class Refused(Exception):
    """A password attempt that failed; `locked` when the account or address is (now) locked out."""

    def __init__(self, locked: bool) -> None:
        super().__init__("locked out" if locked else REFUSED_LOGIN)
        self.locked = locked


@dataclass(frozen=True)
class Attempt:
    """One try of `user`'s password from the request's client, recorded as `action`.
    `check_records` when the check puts its own refusal on the audit log (App.change_password)."""

    request: Request
    action: str
    user: str
    check_records: bool = False

    @property
    def address(self) -> str:
        return client_address(self.request)

    def run(self, password: str, check: Callable[[], T]) -> T:
        """`check()` (which raises AuthenticationError for a wrong password) unless the account
        or address is locked out; raises Refused when refused, counting the failure."""
        core = core_of(self.request)
        throttle = sign_in_state(self.request).throttle
        moment = now(self.request)
        scope = throttle.locked(self.user, self.address, moment)
        if scope is not None:
            # The password is not even checked: a right one during a lockout must not tell.
            self._refused(f"locked out ({scope})")
            raise Refused(locked=True)
        too_long = len(self.user) > LONGEST_NAME or len(password) > MAX_PASSWORD
        try:
            if too_long:
                raise AuthenticationError(REFUSED_LOGIN)
            outcome = check()
        except AuthenticationError:
            if too_long or not self.check_records:
                self._refused(REFUSED_LOGIN)
            locked = throttle.failed(self.user, self.address, moment)
            for scope in locked:
                self._locked_out(scope, core.settings.lockout_minutes)
            raise Refused(locked=bool(locked)) from None
        throttle.succeeded(self.user)
        return outcome

    def _refused(self, reason: str) -> None:
        admin = core_of(self.request).admin
        admin.record(
            self.action, admin.name(self.user), actor=self.user, allowed=False, reason=reason,
            details={"address": self.address},
        )  # fmt: skip

    def _locked_out(self, scope: Scope, minutes: int) -> None:
        admin = core_of(self.request).admin
        target = admin.name(self.user) if scope == "account" else self.address
        admin.record(
            "sign-in.lockout", target, actor=self.user, details={"scope": scope, "minutes": minutes},
        )  # fmt: skip
