"""The normalizers agree with the demo's ground truth about which planted identifiers are bad.

A small demo is generated once for this module (1,000 people); its CRM member table is read back
with plain sqlite3 and every phone and resident ID is checked against ``ground_truth.json``; the
phones and e-mails of the other sources (orders, POS, logistics, tickets), where nothing bad is
planted, must all normalize.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import unicodedata
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from custodia.demo import GroundTruth, generate_demo
from custodia.identity.normalize import (
    normalize_phone,
    normalize_resident_id,
    normalize_values,
    resident_id_birth_date,
)

CUSTOMERS = 1000  # enough people for every planted kind to show up with this seed
SEED = 23


class CrmDemo:
    def __init__(self, folder: Path) -> None:
        self.truth = GroundTruth.model_validate_json(
            (folder / "ground_truth.json").read_text("utf-8")
        )
        with sqlite3.connect(folder / "crm" / "members.db") as db:
            db.row_factory = sqlite3.Row
            self.members = {r["member_id"]: dict(r) for r in db.execute("SELECT * FROM members")}
        db.close()

    def kinds(self, problem: str) -> dict[str, str]:
        return {r.key: r.kind for r in self.truth.problem(problem).records}


@pytest.fixture(scope="module")
def crm_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("normalize_demo") / "data"
    generate_demo(folder, customers=CUSTOMERS, seed=SEED)
    return folder


@pytest.fixture(scope="module")
def crm(crm_folder: Path) -> CrmDemo:
    return CrmDemo(crm_folder)


PHONE_REASONS = {
    "ten_digits": {"phone.length"},
    "twelve_digits": {"phone.length"},
    "letters": {"phone.letters"},
    "junk": {"phone.placeholder", "phone.invalid"},
}


def test_every_planted_invalid_phone_is_rejected_with_a_fitting_reason(crm: CrmDemo) -> None:
    planted = crm.kinds("invalid_phones")
    assert len(set(planted.values())) == len(PHONE_REASONS), "the demo plants every kind"
    for member_id, kind in planted.items():
        result = normalize_phone(crm.members[member_id]["mobile"])
        assert result.reason in PHONE_REASONS[kind], (member_id, kind, result.reason)


def test_every_planted_format_variant_normalizes_to_the_plain_number(crm: CrmDemo) -> None:
    planted = crm.kinds("phone_format_variants")
    assert {"country_code", "dashes", "spaces", "fullwidth_digits"} <= set(planted.values())
    for member_id, kind in planted.items():
        raw = crm.members[member_id]["mobile"]
        digits = "".join(ch for ch in unicodedata.normalize("NFKC", raw) if ch.isdigit())
        expected = "+" + digits if kind == "country_code" else "+86" + digits
        assert normalize_phone(raw).value == expected, (member_id, kind)


def test_unlisted_phones_are_all_valid(crm: CrmDemo) -> None:
    listed = set(crm.kinds("invalid_phones")) | set(crm.kinds("phone_format_variants"))
    clean = [r["mobile"] for k, r in crm.members.items() if k not in listed and r["mobile"]]
    assert len(clean) > 200
    assert all(normalize_phone(m).value == "+86" + m for m in clean)


ID_REASONS = {"bad_checksum": "resident_id.check_digit", "wrong_length": "resident_id.length"}


def test_planted_invalid_resident_ids(crm: CrmDemo) -> None:
    planted = crm.kinds("invalid_id_cards")
    assert set(planted.values()) == {"bad_checksum", "wrong_length", "birthday_mismatch"}
    for member_id, kind in planted.items():
        row: dict[str, Any] = crm.members[member_id]
        result = normalize_resident_id(row["id_card"])
        if kind == "birthday_mismatch":
            # structurally valid: only the birth date disagrees with the record's birthday
            assert result.value is not None, member_id
            born = resident_id_birth_date(result.value)
            assert row["birthday"] is None or born != date.fromisoformat(row["birthday"])
        else:
            assert result.reason == ID_REASONS[kind], (member_id, kind)


def test_unlisted_resident_ids_are_valid_and_hold_the_birthday(crm: CrmDemo) -> None:
    listed = set(crm.kinds("invalid_id_cards"))
    checked = 0
    for member_id, row in crm.members.items():
        if member_id in listed or row["id_card"] is None:
            continue
        value = normalize_resident_id(row["id_card"]).value
        assert value == row["id_card"], member_id
        if row["birthday"]:
            assert resident_id_birth_date(value) == date.fromisoformat(row["birthday"])
            checked += 1
    assert checked > 50


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def _csv_column(paths: list[Path], column: str) -> list[str]:
    values: list[str] = []
    for path in paths:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            values += [row[column] for row in csv.DictReader(handle) if row[column]]
    return values


def test_identifiers_of_the_other_sources_are_never_falsely_rejected(crm_folder: Path) -> None:
    """Only the CRM plants bad identifiers; every phone and e-mail elsewhere must normalize."""
    orders = _jsonl(crm_folder / "ecommerce" / "orders.jsonl")
    tickets = _jsonl(crm_folder / "service" / "tickets.jsonl")
    phones = [o["buyer_phone"] for o in orders] + [o["shipping"]["receiver_phone"] for o in orders]
    phones += [t["phone"] for t in tickets]
    phones += _csv_column(sorted((crm_folder / "pos").glob("store_*.csv")), "phone")
    phones += _csv_column([crm_folder / "logistics" / "deliveries.csv"], "receiver_phone")
    emails = [o["buyer_email"] for o in orders] + [t["email"] for t in tickets]
    for id_type, column in (("phone", phones), ("email", emails)):
        present = [v for v in column if v]
        assert len(present) > 50, id_type
        _, reasons = normalize_values(id_type, present)
        assert Counter(r for r in reasons if r) == Counter(), id_type
