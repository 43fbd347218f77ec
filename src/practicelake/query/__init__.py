"""The one read path for people: a reader's scope, a guard over their SQL, a locked session."""

from practicelake.query.errors import QueryFailed, QueryRefused
from practicelake.query.scope import Scope
from practicelake.query.service import QueryService
from practicelake.query.session import Limits

__all__ = ["Limits", "QueryFailed", "QueryRefused", "QueryService", "Scope"]
