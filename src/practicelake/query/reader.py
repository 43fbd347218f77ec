"""A person's read: who they are decides what they see, and every read is audited.

`Reader.read(principal, sql)` turns the principal's grants into a scope (security.permissions:
which relations, which practices' rows in each, which columns hidden), runs the query through
the service within that scope, and appends an access record to the audit log, allowed or
denied. If the record cannot be written, the rows are not returned.

Whatever goes wrong is denied and recorded before the reader hears of it: a refusal, a failed
query, a lost query process, or a defect. The reader gets a practicelake error (an
unforeseen one says only that it happened); an interrupt or exit goes on as it is, recorded
if the log can still be written. The record's reason is the error's kind and a phrase of a
fixed vocabulary (query.errors.Reason), never the message: a message may quote the query.
A query refused for its length or its number of tokens is fingerprinted by its first
OVERSIZE_FINGERPRINT characters.

A view made of several reads (a dashboard page, the rows beneath a figure) reads through
`Reader.together()`: its reads' records are appended together when the view is made, in one
write, rather than one write each; the view is shown only once they are on disk.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence

import pyarrow as pa

from practicelake.access.permissions import access_for
from practicelake.access.principals import Principal
from practicelake.audit.log import AuditEntry, access_entry
from practicelake.query import guard
from practicelake.query.errors import QueryError, Reason, as_query_error, audit_reason
from practicelake.query.scope import Scope, View
from practicelake.query.service import QueryService

AuditSink = Callable[[AuditEntry], object]
AuditSinkAll = Callable[[Sequence[AuditEntry]], object]
"""Takes several entries onto the log in one write (`AuditLog.append_all`)."""
OVERSIZE_FINGERPRINT = 10_000


def scope_for(principal: Principal, relations: list[str]) -> Scope:
    access = access_for(principal, relations)
    views = {name: View(grant.practices, grant.hidden_columns) for name, grant in access.relations.items()}
    return Scope.per_relation(views)


class Reader:
    def __init__(self, service: QueryService, audit: AuditSink, audit_all: AuditSinkAll | None = None) -> None:
        self.service = service
        self.audit = audit
        self.audit_all: AuditSinkAll = audit_all or (lambda entries: [audit(entry) for entry in entries])

    @contextlib.contextmanager
    def together(self) -> Iterator[Reader]:
        """A reader for one view of several reads. Its reads' records, allowed or denied, are
        kept until the block ends and then appended in one write, whether the block ends well
        or in an error. What was read must not leave the block: only once it has ended without
        an error are the records on disk. When they cannot be written, the block ends in the
        log's error (the view is not shown)."""
        held: list[AuditEntry] = []
        reader = Reader(self.service, held.append)
        try:
            yield reader
        except Exception as exc:
            try:
                self.audit_all(held)
            except Exception as lost:
                raise lost from exc
            raise
        except BaseException:
            with contextlib.suppress(Exception):
                self.audit_all(held)
            raise
        self.audit_all(held)

    def relations(self, principal: Principal) -> list[str]:
        scope = self.scope(principal)
        return [name for name, _ in scope.views or ()]

    def scope(self, principal: Principal) -> Scope:
        return scope_for(principal, self.service.relations())

    def read(self, principal: Principal, sql: str, parameters: Mapping[str, object] | None = None) -> pa.Table:
        roles = sorted(set(principal.roles.values()))
        scope: Scope | None = None
        try:
            scope = self.scope(principal)
            result = self.service.run(sql, scope, parameters)
        except Exception as exc:
            self._denied(principal, roles, scope, sql, exc)
            raised = as_query_error(exc)
            if raised is exc:
                raise
            raise raised from exc
        except BaseException as exc:
            with contextlib.suppress(Exception):
                self._denied(principal, roles, scope, sql, exc)
            raise
        self.audit(access_entry(principal.name, roles, scope.covered(), sql=_audited(sql, None),
                                relations=self._reads(sql, scope), rows=result.num_rows, allowed=True))  # fmt: skip
        return result

    def _denied(
        self, principal: Principal, roles: list[str], scope: Scope | None, sql: str, exc: BaseException
    ) -> None:
        # Without a scope (it could not be read) the record names no practice rather than all.
        practices = () if scope is None else scope.covered()
        reads = [] if scope is None else self._reads(sql, scope)
        self.audit(access_entry(principal.name, roles, practices, sql=_audited(sql, exc), relations=reads, rows=0,
                                allowed=False, reason=audit_reason(exc)))  # fmt: skip

    def _reads(self, sql: str, scope: Scope) -> list[str]:
        try:
            return self.service.reads(sql, [name for name, _ in scope.views or ()])
        except Exception:
            return []


def _audited(sql: str, exc: BaseException | None) -> str:
    """The text the record's fingerprint is taken of. Fingerprinting tokenizes the text in this
    process (over a second per megabyte): a query refused for its length or its tokens is
    fingerprinted by its first OVERSIZE_FINGERPRINT characters."""
    oversize = isinstance(exc, QueryError) and exc.reason in (Reason.TOO_LARGE, Reason.TOO_MANY_TOKENS)
    return sql[:OVERSIZE_FINGERPRINT] if oversize or len(sql) > guard.MAX_SQL_CHARS else sql
