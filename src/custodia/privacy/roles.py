"""The roles a person or a service acts under; masking, approvals and API access key off them.

Role values are stored in ``api_tokens.role`` and written to the audit log, so they are a contract:
add roles, never rename them.

Example::

    Role("analyst") is Role.ANALYST  # True
    Role.PRIVACY_OFFICER.label       # 'privacy officer 隐私官'
"""

from __future__ import annotations

from enum import StrEnum

from custodia.core.errors import ValidationError


class Role(StrEnum):
    """What a principal is allowed to see and do.

    - ``admin``: runs the workspace (settings, tokens, users); not a data reader by default.
    - ``data_steward``: owns data quality, mappings and identity review.
    - ``analyst``: analyses masked or aggregated data.
    - ``marketer``: builds segments and activations on consented profiles.
    - ``service_agent``: looks up one customer at a time to serve them.
    - ``risk_officer``: fraud and credit work; may see some highly sensitive fields.
    - ``privacy_officer``: consents, erasure and access requests, approvals.
    - ``auditor``: reads the audit log and lineage; changes nothing.
    """

    ADMIN = "admin"
    DATA_STEWARD = "data_steward"
    ANALYST = "analyst"
    MARKETER = "marketer"
    SERVICE_AGENT = "service_agent"
    RISK_OFFICER = "risk_officer"
    PRIVACY_OFFICER = "privacy_officer"
    AUDITOR = "auditor"

    @property
    def label(self) -> str:
        """A bilingual display name for the console and CLI."""
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    Role.ADMIN: "administrator 管理员",
    Role.DATA_STEWARD: "data steward 数据治理专员",
    Role.ANALYST: "analyst 分析师",
    Role.MARKETER: "marketer 营销人员",
    Role.SERVICE_AGENT: "service agent 客服专员",
    Role.RISK_OFFICER: "risk officer 风控专员",
    Role.PRIVACY_OFFICER: "privacy officer 隐私官",
    Role.AUDITOR: "auditor 审计员",
}


def parse_role(value: Role | str) -> Role:
    """``value`` as a :class:`Role`; an unknown one is a ValidationError (field ``role``, rule
    ``known_role``).

    >>> parse_role("auditor") is Role.AUDITOR
    True
    """
    try:
        return Role(value)
    except ValueError:
        raise ValidationError("role", "known_role") from None
