"""The masking policy in force, as a route dependency.

The workspace's ``HOME/privacy/policy.yaml`` is read once per app and again whenever the file
changes (one ``stat`` per request), so a policy edit takes effect without a restart; each new
version is written to the audit log once (``policy.change``). Columns are judged by the tiers of
``HOME/privacy/classification.yaml`` (which can raise a column above ``core.tables``), read the
same way.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Request

from custodia.api.deps import get_workspace
from custodia.core.errors import ValidationError
from custodia.privacy.classification import ClassificationFile
from custodia.privacy.masking_policy import MaskingPolicy, PolicyFile
from custodia.privacy.policy_audit import PolicyChangeAudit


async def current_policy(request: Request) -> MaskingPolicy:
    """The masking policy, judging columns by the workspace's classification tiers."""
    policies = getattr(request.app.state, "masking_policies", None)
    classes = getattr(request.app.state, "classification_policies", None)
    if not isinstance(policies, PolicyFile) or not isinstance(classes, ClassificationFile):
        ws = await get_workspace(request)
        audit = PolicyChangeAudit(ws.store, ws.clock)
        policies = PolicyFile(ws.home, on_change=audit)
        classes = ClassificationFile(ws.home, on_change=audit)
        request.app.state.masking_policies = policies
        request.app.state.classification_policies = classes
    return policies.current().with_tiers(classes.current().tier)


PolicyDep = Annotated[MaskingPolicy, Depends(current_policy)]
UNMASK_HEADER = "X-Custodia-Unmask"


async def unmask_request_id(
    unmask: Annotated[
        str | None,
        Query(
            max_length=64,
            description="An approved unmask request of yours for this customer: its fields in "
            f"clear (or send it in the {UNMASK_HEADER} header).",
        ),
    ] = None,
    header: Annotated[str | None, Header(alias=UNMASK_HEADER, max_length=64)] = None,
) -> str | None:
    """The unmask request id of a read, from ``?unmask=`` or the ``X-Custodia-Unmask`` header
    (the header keeps it out of access logs); both given and different: 400."""
    if unmask is not None and header is not None and unmask != header:
        raise ValidationError(
            "unmask", "one_request", "unmask: query and header name different requests"
        )
    return unmask if unmask is not None else header


UnmaskDep = Annotated[str | None, Depends(unmask_request_id)]
