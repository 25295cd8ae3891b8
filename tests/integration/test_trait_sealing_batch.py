"""Golden traits of many profiles sealed in one batch (``ColumnSealer.seal_traits_of``).

Identity resolution stores the golden traits of up to 50,000 profiles at a time; their L3
values are sealed with one key read and one key creation per sealed attribute for the batch
(it was one store round trip, transaction and ``key.create`` audit entry per profile: a
1M-profile full run took over an hour). Conflicting values are sealed too, other attributes
stay plain, and every value opens back under its own profile.
"""

from __future__ import annotations

from typing import Any

from custodia.settings import Settings
from custodia.storage.store_audit import AuditLog
from custodia.workspace import Workspace

TRAITS: dict[str, dict[str, Any] | None] = {
    "p-1": {
        "resident_id": {
            "value": "110105198001011238",
            "conflicts": [{"value": "31011519900305456X", "source": "crm"}],
        },
        "name": {"value": "张伟"},
    },
    "p-2": {"credit_band": {"value": "B"}, "name": {"value": "Li Na"}},
    "p-3": {"name": {"value": "王芳"}},
    "p-4": None,
    "p-5": {"resident_id": {"value": "440306199912310013"}},
}


def test_a_batch_seals_every_l3_value_under_its_profile(settings: Settings) -> None:
    ws, _token = Workspace.create(settings)
    with ws:
        sealer = ws.sealing
        assert sealer is not None
        before = _key_creations(ws)
        stored = sealer.seal_traits_of(TRAITS)

        p1, p2 = stored["p-1"], stored["p-2"]
        assert p1 is not None and p2 is not None
        for sealed in (
            p1["resident_id"]["value"],
            p1["resident_id"]["conflicts"][0]["value"],
            p2["credit_band"]["value"],
        ):
            assert sealed.startswith("enc:v1:")
        assert p1["resident_id"]["conflicts"][0]["source"] == "crm"
        assert p1["name"] == {"value": "张伟"} and stored["p-3"] == TRAITS["p-3"]
        assert stored["p-4"] is None
        # one creation per sealed attribute (resident_id: p-1 and p-5; credit_band: p-2),
        # not one per profile
        assert _key_creations(ws) == before + 2

        assert {p: sealer.open_traits(p, t) for p, t in stored.items()} == TRAITS
        assert sealer.open_traits("p-2", p1) != TRAITS["p-1"]  # bound to its own profile


def test_sealed_values_are_left_as_they_are(settings: Settings) -> None:
    ws, _token = Workspace.create(settings)
    with ws:
        sealer = ws.sealing
        assert sealer is not None
        once = sealer.seal_traits_of(TRAITS)
        assert sealer.seal_traits_of(once) == once
        assert sealer.seal_traits("p-1", TRAITS["p-1"]) != TRAITS["p-1"]


def _key_creations(ws: Workspace) -> int:
    return sum(1 for e in AuditLog(ws.store, ws.clock).tail(1000) if e.action == "key.create")
