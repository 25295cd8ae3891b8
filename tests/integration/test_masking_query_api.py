"""``POST /v1/query`` masked by role: result columns traced to the table columns they read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from custodia.api.app import create_app
from custodia.privacy.roles import Role
from custodia.privacy.tokens import issue_token
from custodia.settings import Settings
from custodia.storage.store import AuditLog
from custodia.workspace import Workspace


@pytest.fixture
def client(
    settings: Settings, ingest_identity_sources: Any
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    ws, admin = Workspace.create(settings)
    with ws:
        tokens = {r.value: issue_token(ws.store, r.value, r, created_by="t").token for r in Role}
    tokens["admin"] = admin.token
    ingest_identity_sources(settings.home, (("crm", "crm.csv"),))
    with TestClient(create_app(settings)) as api:
        yield api, tokens


def _query(client: tuple[TestClient, dict[str, str]], role: str, sql: str) -> Any:
    api, tokens = client
    headers = {"Authorization": f"Bearer {tokens[role]}"}
    return api.post("/v1/query", json={"sql": sql}, headers=headers)


M1 = "select {cols} from customer_records where member_id = 'M1'"


def test_columns_are_masked_like_the_table_columns_they_are(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    sql = M1.format(cols="phone as tel, name, resident_id, birthday, city")
    marketer = _query(client, "marketer", sql).json()
    assert marketer["columns"] == ["tel", "name", "birthday", "city"]  # L3 absent
    assert marketer["rows"] == [
        {"tel": "138****0001", "name": "*伟", "birthday": "1980", "city": "北京"}
    ]
    steward = _query(client, "data_steward", sql).json()["rows"][0]
    assert steward["tel"] == "13812340001" and steward["resident_id"] == "110105********1238"
    cte = "with x as (select phone from customer_records where member_id = 'M1') select * from x"
    assert _query(client, "analyst", cte).json()["rows"] == [{"phone": "138****0001"}]


def test_computed_personal_columns_are_refused_except_for_admins_audited(
    client: tuple[TestClient, dict[str, str]], settings: Settings
) -> None:
    counted = _query(client, "marketer", "select count(distinct phone) n, city from "
                     "customer_records group by city order by n desc limit 1")  # fmt: skip
    assert counted.status_code == 200 and counted.json()["rows"][0]["n"] >= 1
    sql = M1.format(cols="substr(resident_id, 7, 8) AS born")
    refused = _query(client, "analyst", sql)
    assert refused.status_code == 403
    assert "born" in refused.text and "customer_records.resident_id" in refused.text
    assert "19800101" not in refused.text
    admin = _query(client, "admin", sql)
    assert admin.json()["rows"] == [{"born": "19800101"}]
    with Workspace.open(settings) as ws:
        entry = AuditLog(ws.store).tail(1)[0]
    assert entry.action == "data.query_unmasked"
    assert entry.details == {"columns": ["born"], "reads": ["customer_records.resident_id"]}
    assert _query(client, "auditor", "select 1").status_code == 403
