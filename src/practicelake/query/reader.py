"""A person's read: who they are decides what they see, and every read is audited.

`Reader.read(principal, sql)` turns the principal's grants into a scope (security.permissions:
which relations, which practices' rows in each, which columns hidden), runs the query through
the service within that scope, and appends an access record to the audit log, allowed or
denied. If the record cannot be written, the rows are not returned.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import pyarrow as pa

from practicelake.access.permissions import access_for
from practicelake.access.principals import Principal
from practicelake.audit.log import AuditEntry, access_entry
from practicelake.errors import PracticelakeError
from practicelake.query.scope import Scope, View
from practicelake.query.service import BENCHMARKS, QueryService

AuditSink = Callable[[AuditEntry], object]
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
NUMBERS = re.compile(r"\b\d[\d.:-]*\b")


def scope_for(principal: Principal, relations: list[str]) -> Scope:
    access = access_for(principal, relations)
    views = {name: View(grant.practices, grant.hidden_columns) for name, grant in access.relations.items()}
    return Scope.per_relation(views)


class Reader:
    def __init__(self, service: QueryService, audit: AuditSink) -> None:
        self.service = service
        self.audit = audit

    def relations(self, principal: Principal) -> list[str]:
        scope = self.scope(principal)
        return [name for name, _ in scope.views or ()]

    def scope(self, principal: Principal) -> Scope:
        return scope_for(principal, [*self.service.relations(), *sorted(BENCHMARKS)])

    def read(self, principal: Principal, sql: str, parameters: Mapping[str, object] | None = None) -> pa.Table:
        scope = self.scope(principal)
        visible = [name for name, _ in scope.views or ()]
        roles = sorted(set(principal.roles.values()))
        try:
            result = self.service.run(sql, scope, parameters)
        except PracticelakeError as exc:
            reads = self.service.reads(sql, visible)
            self.audit(access_entry(principal.name, roles, scope.covered(), sql=sql, relations=reads, rows=0,
                                    allowed=False, reason=_reason(exc)))  # fmt: skip
            raise
        reads = self.service.reads(sql, visible)
        self.audit(access_entry(principal.name, roles, scope.covered(), sql=sql, relations=reads,
                                rows=result.num_rows, allowed=True))  # fmt: skip
        return result


def _reason(exc: PracticelakeError) -> str:
    """The refusal's kind and message, with anything quoted or numeric taken out: an error
    can quote the query, and the query can hold values."""
    message = QUOTED.sub("?", str(exc).splitlines()[0])
    return f"{type(exc).__name__}: {NUMBERS.sub('?', message)[:200]}"
