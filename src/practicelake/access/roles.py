"""The roles a user can hold, one per practice, and a grant of one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

EVERY_PRACTICE = "*"

ROLES: Mapping[str, str] = {
    "platform_admin": "The operator: pipeline status, quality and audit of every practice. "
    "No KPI data unless also granted a practice role.",
    "practice_owner": "A doctor who owns the practice: every curated table of their practice.",
    "practice_manager": "The practice's administrator: every curated table of their practice; "
    "manages the practice's users.",
    "staff": "Front desk: appointments, access and patient flow of their practice. No money figures.",
    "billing": "Billing staff: the revenue cycle, A/R, denials and payer mix of their practice.",
    "analyst": "Cross-practice benchmarks only, under disclosure control (docs/disclosure.md); no practice's own rows.",
}
# Roles that are about every practice at once, granted with practice `*` only.
CROSS_PRACTICE_ROLES = frozenset({"platform_admin", "analyst"})


@dataclass(frozen=True)
class Grant:
    """One role in one practice (`*`: every practice)."""

    practice_id: str
    role: str
