"""The masking policy in force, as a route dependency.

The workspace's ``HOME/privacy/policy.yaml`` is read once per app and again whenever the file
changes (one ``stat`` per request), so a policy edit takes effect without a restart.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from custodia.api.deps import get_workspace
from custodia.privacy.masking_policy import MaskingPolicy, PolicyFile


async def current_policy(request: Request) -> MaskingPolicy:
    policies = getattr(request.app.state, "masking_policies", None)
    if not isinstance(policies, PolicyFile):
        policies = PolicyFile((await get_workspace(request)).home)
        request.app.state.masking_policies = policies
    return policies.current()


PolicyDep = Annotated[MaskingPolicy, Depends(current_policy)]
UnmaskQ = Annotated[
    str | None,
    Query(
        max_length=64,
        description="An approved unmask request of yours for this customer: its fields in clear.",
    ),
]
