"""The customer 360 as one role may see it: :class:`ProfileView` answers, masked server-side.

Every section is masked with the caller's :class:`~custodia.privacy.masking_policy.Masker`:
golden traits and their conflicting values by the ``profiles`` columns' tiers, identifiers by
their type, events, orders and interactions by their tables' columns. A key the role may not see
is left out altogether (``absent``); tags are derived and general (L1).

With an unmask request id (``?unmask=`` on the API) the request is checked for this caller and
this very profile first (refusals are audited), the approved fields come back in clear, and the
read writes exactly one ``data.unmask`` audit entry.

Example::

    policy = PolicyFile(ws.home).current()
    disclose_profile(ws, policy, caller, "phone:13812345678", "summary", unmask=None)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from custodia.core.tables import PROFILES, TableSpec, table_spec
from custodia.pipeline.profile_view import ProfileView
from custodia.privacy.masking_policy import Masker, MaskingPolicy
from custodia.privacy.tokens import TokenRecord
from custodia.privacy.unmask import UnmaskDesk
from custodia.workspace import Workspace

__all__ = ["VIEWS", "disclose_profile", "disclose_traits", "mask_traits", "paged_view"]

Reader = Callable[[ProfileView, str, Masker], dict[str, Any]]


def mask_traits(masker: Masker, view: Mapping[str, Any]) -> dict[str, Any]:
    """A traits view (``attributes`` of golden values with their conflicts) as the role sees it;
    attributes that are not columns of ``profiles`` count as highly sensitive."""
    attributes: dict[str, Any] = {}
    for name, attr in (view.get("attributes") or {}).items():
        keep, value = masker.shown(PROFILES.name, name, attr.get("value"))
        if not keep:
            continue
        conflicts = [
            {**c, "value": masker.shown(PROFILES.name, name, c.get("value"))[1]}
            for c in attr.get("conflicts") or []
        ]
        attributes[name] = {**attr, "value": value, "conflicts": conflicts}
    return {**view, "attributes": attributes}


def _identities(masker: Masker, page: Mapping[str, Any]) -> dict[str, Any]:
    items = []
    for item in page["items"]:
        keep, value = masker.identifier(item["id_type"], item["value"])
        if keep:
            items.append({**item, "value": value})
    return {**page, "items": items}


def _rows(masker: Masker, spec: TableSpec, page: Mapping[str, Any]) -> dict[str, Any]:
    return {**page, "items": [masker.row(spec, row) for row in page["items"]]}


def _summary(view: ProfileView, pid: str, masker: Masker) -> dict[str, Any]:
    return {
        "profile": mask_traits(masker, view.traits(pid)),
        "identities": _identities(masker, view.identities(pid))["items"],
        "events": _rows(masker, table_spec("events"), view.events(pid, limit=10)),
        "orders": _rows(masker, table_spec("orders"), view.orders(pid, limit=10)),
        "interactions": _rows(masker, table_spec("interactions"), view.interactions(pid, limit=10)),
        "tags": view.tags(pid)["tags"],
    }


VIEWS: Final[Mapping[str, Reader]] = {
    "summary": _summary,
    "traits": lambda view, pid, m: mask_traits(m, view.traits(pid)),
    "tags": lambda view, pid, _m: view.tags(pid),
}
"""Sections without paging, by name."""


def paged_view(section: str, limit: int, offset: int) -> Reader:
    """The reader of a paged section: identities, events, orders or interactions."""

    def read(view: ProfileView, pid: str, masker: Masker) -> dict[str, Any]:
        page = getattr(view, section)(pid, limit=limit, offset=offset)
        if section == "identities":
            return _identities(masker, page)
        return _rows(masker, table_spec(section), page)

    return read


def disclose_profile(
    ws: Workspace,
    policy: MaskingPolicy,
    caller: TokenRecord,
    ref: str,
    section: str,
    read: Reader,
    *,
    unmask: str | None = None,
) -> dict[str, Any]:
    """Read one section of the profile ``ref`` finds, masked for ``caller``'s role.

    ``unmask`` names an approved request of the caller for this profile; its fields come back
    in clear and the read is audited once. A role the policy does not list is refused.
    """
    policy.role(caller.role)
    view = ProfileView(ws)
    pid = view.find(ref)
    if unmask is None:
        return read(view, pid, policy.masker(caller.role))
    desk = UnmaskDesk(ws.store, policy.unmask, ws.clock)
    grant = desk.grant_for_read(unmask, caller, pid)
    masker = policy.masker(caller.role, grant.fields)
    out = read(view, pid, masker)
    desk.record_read(grant, caller, section, masker.revealed)
    return out


def disclose_traits(
    ws: Workspace, policy: MaskingPolicy, caller: TokenRecord, ref: str, unmask: str | None
) -> dict[str, Any]:
    """The traits section; without ``unmask`` through :meth:`ProfileView.traits_of`, the
    lookup API's hot path (one read for an identifier of a live profile)."""
    if unmask is not None:
        return disclose_profile(ws, policy, caller, ref, "traits", VIEWS["traits"], unmask=unmask)
    masker = policy.masker(caller.role)
    return mask_traits(masker, ProfileView(ws).traits_of(ref))
