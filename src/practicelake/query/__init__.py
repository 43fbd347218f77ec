"""The one read path for people: a reader's scope, a guard over their SQL, a locked session in
a query process of its own."""

from practicelake.query.errors import QueryBusy, QueryFailed, QueryRefused, Reason
from practicelake.query.scope import Scope
from practicelake.query.service import QueryService, ServiceStats
from practicelake.query.session import Limits

__all__ = ["Limits", "QueryBusy", "QueryFailed", "QueryRefused", "QueryService", "Reason", "Scope", "ServiceStats"]
