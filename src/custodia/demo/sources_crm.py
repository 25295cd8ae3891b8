"""The brand's CRM as a SQLite database (``crm/members.db``: ``members`` and ``member_points``).

Why: the CRM is the "system of record" everyone trusts too much. Its member level is computed
from member-attributed spend in the window, except for records whose level was set by hand
(injected, listed). Phones and resident IDs are sometimes invalid or oddly formatted, occupation
is often missing, names carry full-width variants, and duplicate sign-ups hold a second phone.

Example::

    source, problems = write_crm(out_dir, world)
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from custodia.demo.chinese_ids import DISTRICTS, JUNK_MOBILES, resident_id_check_digit
from custodia.demo.models import ProblemRecord
from custodia.demo.names import misspell, width_variant
from custodia.demo.population import STORES, TIERS, TIERS_ZH
from custodia.demo.purchases import MINIPROGRAM, Purchases
from custodia.demo.timeline import DAY, WINDOW_DAYS, local_text
from custodia.demo.vectors import FloatArray, IntArray, substream
from custodia.demo.world import World

LEVEL_THRESHOLDS = {"SILVER": 2_000.0, "GOLD": 6_000.0, "DIAMOND": 15_000.0}
LEVEL_OVERRIDE_SHARE = 0.025
INVALID_PHONE_SHARE = 0.025
PHONE_FORMAT_SHARE = 0.02
ID_SHOWN_SHARE = (0.65, 0.25)
INVALID_ID_SHARE = 0.015
OCCUPATION_MISSING_SHARE = 0.32
BIRTHDAY_MISSING_SHARE = 0.06
GENDER_MISSING_SHARE = 0.02
NAME_WIDTH_SHARE = 0.02

_MEMBERS_DDL = """
CREATE TABLE members (
    member_id TEXT PRIMARY KEY,
    name TEXT,
    gender TEXT,
    birthday TEXT,
    mobile TEXT,
    email TEXT,
    id_card TEXT,
    member_level TEXT,
    level_code TEXT,
    province TEXT,
    city TEXT,
    address TEXT,
    occupation TEXT,
    register_channel TEXT,
    registered_at TEXT,
    updated_at TEXT
)"""
_POINTS_DDL = """
CREATE TABLE member_points (
    member_id TEXT PRIMARY KEY REFERENCES members(member_id),
    lifetime_points INTEGER NOT NULL,
    points_balance INTEGER NOT NULL,
    last_earned_at TEXT
)"""


@dataclass
class CrmProblems:
    """Keys of the records whose fields were damaged on purpose, by problem name."""

    records: dict[str, list[ProblemRecord]]
    missing: dict[str, int]


def member_spend(world: World) -> tuple[FloatArray, IntArray]:
    """Spend and last purchase time per member record (online net of coupons, plus stores)."""
    n = len(world.members)
    amounts = world.buys.amounts()
    spend = np.zeros(n)
    last = np.full(n, -1, dtype=np.int64)
    counted = np.array([s in ("completed", "shipped") for s in world.online.status], dtype=bool)
    rec = world.online.member_record
    ok = counted & (rec >= 0)
    net = amounts[world.online.purchase] - world.online.discount
    np.add.at(spend, rec[ok], net[ok])
    np.maximum.at(last, rec[ok], world.buys.time_s[world.online.purchase[ok]])
    rec = world.receipts.member_record
    ok = rec >= 0
    np.add.at(spend, rec[ok], amounts[world.receipts.purchase[ok]])
    np.maximum.at(last, rec[ok], world.buys.time_s[world.receipts.purchase[ok]])
    return spend, last


def level_from_spend(spend: FloatArray) -> IntArray:
    """Level index (0 REGULAR .. 3 DIAMOND) the CRM rule assigns to a window spend."""
    return np.searchsorted(list(LEVEL_THRESHOLDS.values()), spend, side="right").astype(np.int64)


def write_crm(out_dir: Path, world: World) -> tuple[int, int, CrmProblems]:
    """Write the database; returns (members rows, points rows, problems)."""
    rng = substream(world.seed, "crm")
    spend, last = member_spend(world)
    level, overridden = _levels(rng, spend)
    problems = CrmProblems(records={}, missing={})
    rows = _member_rows(rng, world, level, last, problems)
    problems.records["member_level_inconsistent"] = [
        ProblemRecord(
            key=world.members.member_id[k],
            kind="level_not_matching_spend",
            detail=f"has {TIERS[level[k]]}, spend {spend[k]:.2f} implies "
            f"{TIERS[level_from_spend(spend[k : k + 1])[0]]}",
        )
        for k in np.flatnonzero(overridden)
    ]
    points = _points_rows(rng, world, spend, last)
    path = out_dir / "crm" / "members.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.execute(_MEMBERS_DDL)
        db.execute(_POINTS_DDL)
        db.execute("CREATE INDEX idx_members_mobile ON members (mobile)")
        db.executemany(f"INSERT INTO members VALUES ({','.join('?' * 16)})", rows)
        db.executemany("INSERT INTO member_points VALUES (?, ?, ?, ?)", points)
    db.close()
    return len(rows), len(points), problems


def _levels(rng: np.random.Generator, spend: FloatArray) -> tuple[IntArray, IntArray]:
    """Rule-based levels, with a few set by hand to something the spend does not support."""
    level = level_from_spend(spend)
    overridden = rng.random(len(spend)) < LEVEL_OVERRIDE_SHARE
    shift = rng.integers(2, 4, size=len(spend))
    forced = np.where(level >= 2, level - shift, level + shift)
    level = np.where(overridden, np.clip(forced, 0, 3), level)
    return level.astype(np.int64), overridden & (level != level_from_spend(spend))


def _member_rows(
    rng: np.random.Generator, world: World, level: IntArray, last: IntArray, problems: CrmProblems
) -> list[tuple[str | None, ...]]:
    people, members = world.people, world.members
    n = len(members)
    registered = local_text(members.registered_s)
    updated_s = np.maximum(members.registered_s, last)
    updated_s = np.minimum(updated_s + rng.integers(0, 90 * DAY, size=n), WINDOW_DAYS * DAY - 1)
    updated = local_text(updated_s)
    channel = _register_channels(rng, world)
    for name in ("invalid_phones", "phone_format_variants", "invalid_id_cards", "name_variants"):
        problems.records[name] = []
    rows: list[tuple[str | None, ...]] = []
    draws = rng.random((n, 6))
    dice = random.Random(int(rng.integers(1 << 62)))
    for k in range(n):
        p = int(members.person[k])
        dup = bool(members.duplicate[k])
        member_id = members.member_id[k]
        district = DISTRICTS[int(people.district[p])]
        rows.append((
            member_id,
            _name(dice, world, p, dup, member_id, problems),
            None if draws[k, 0] < GENDER_MISSING_SHARE else ("F" if people.female[p] else "M"),
            _birthday(world, p, dup, draws[k, 1]),
            _mobile(dice, world, p, dup, member_id, problems),
            people.email2[p] if dup else people.email[p],
            _id_card(dice, world, p, dup, member_id, draws[k, 2], problems),
            TIERS_ZH[level[k]],
            TIERS[level[k]],
            district.province,
            district.city,
            None if draws[k, 3] < 0.05 else people.address[p],
            None if draws[k, 4] < OCCUPATION_MISSING_SHARE or dup else people.occupation[p],
            channel[k],
            registered[k],
            updated[k],
        ))  # fmt: skip
    _count_missing(rows, problems)
    return rows


def _count_missing(rows: list[tuple[str | None, ...]], problems: CrmProblems) -> None:
    columns = ("name", "gender", "birthday", "mobile", "email", "id_card", "address", "occupation")
    positions = (1, 2, 3, 4, 5, 6, 11, 12)
    for column, pos in zip(columns, positions, strict=True):
        problems.missing[column] = sum(1 for r in rows if r[pos] is None)


def _register_channels(rng: np.random.Generator, world: World) -> list[str]:
    """Where each record signed up: the store of the first purchase, online, or the mini-program."""
    buys, members = world.buys, world.members
    first = np.full(world.people.n, len(buys), dtype=np.int64)
    np.minimum.at(first, buys.person, np.arange(len(buys), dtype=np.int64))
    out = []
    picks = rng.integers(0, 3, size=len(members))
    for k, p in enumerate(members.person.tolist()):
        home = int(world.people.home_store[p])
        b = int(first[p])
        if not members.duplicate[k] and not world.people.existing[p] and b < len(buys):
            out.append(_first_purchase_channel(buys, b))
        elif home >= 0 and picks[k] > 0:
            out.append(STORES[home].store_id)
        else:
            out.append(("online", "wechat_miniprogram", "online")[picks[k]])
    return out


def _first_purchase_channel(buys: Purchases, b: int) -> str:
    if buys.store[b] >= 0:
        return STORES[int(buys.store[b])].store_id
    return "wechat_miniprogram" if buys.platform[b] == MINIPROGRAM else "online"


def _name(
    dice: random.Random, world: World, p: int, dup: bool, member_id: str, problems: CrmProblems
) -> str:
    people = world.people
    family, given, english = people.names.family[p], people.names.given[p], bool(people.english[p])
    if dup and dice.random() < 0.5:
        text = misspell(dice, family, given, english)
        problems.records["name_variants"].append(
            ProblemRecord(key=member_id, kind="typo", detail=text)
        )
        return text
    if dice.random() < (0.05 if english else NAME_WIDTH_SHARE):
        text, kind = width_variant(family, given, english)
        problems.records["name_variants"].append(
            ProblemRecord(key=member_id, kind=kind, detail=text)
        )
        return text
    return people.name[p]


def _birthday(world: World, p: int, dup: bool, draw: float) -> str | None:
    if draw < BIRTHDAY_MISSING_SHARE or (dup and draw < 0.5):
        return None
    return str(np.datetime64(int(world.people.birth_day[p]), "D"))


def _mobile(
    dice: random.Random, world: World, p: int, dup: bool, member_id: str, problems: CrmProblems
) -> str:
    phone = str(world.people.mobile2[p]) if dup else world.people.mobile[p]
    u = dice.random()
    if u < INVALID_PHONE_SHARE:
        kind = ("ten_digits", "letters", "junk", "twelve_digits")[dice.randrange(0, 4)]
        bad = _broken_phone(dice, phone, kind)
        problems.records["invalid_phones"].append(ProblemRecord(key=member_id, kind=kind))
        return bad
    if u < INVALID_PHONE_SHARE + PHONE_FORMAT_SHARE:
        kind = ("country_code", "dashes", "spaces", "fullwidth_digits")[dice.randrange(0, 4)]
        problems.records["phone_format_variants"].append(ProblemRecord(key=member_id, kind=kind))
        return _formatted_phone(phone, kind)
    return phone


def _broken_phone(dice: random.Random, phone: str, kind: str) -> str:
    k = dice.randrange(3, 11)
    if kind == "ten_digits":
        return phone[:k] + phone[k + 1 :]
    if kind == "letters":
        return phone[:k] + "ab"[dice.randrange(0, 2)] + phone[k + 1 :]
    if kind == "junk":
        return JUNK_MOBILES[dice.randrange(0, len(JUNK_MOBILES))]
    return phone + str(dice.randrange(0, 10))


def _formatted_phone(phone: str, kind: str) -> str:
    if kind == "country_code":
        return f"+86 {phone}"
    if kind == "dashes":
        return f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
    if kind == "spaces":
        return f"{phone[:3]} {phone[3:7]} {phone[7:]}"
    return "".join(chr(ord(ch) + 0xFEE0) for ch in phone)


def _id_card(
    dice: random.Random,
    world: World,
    p: int,
    dup: bool,
    member_id: str,
    draw: float,
    problems: CrmProblems,
) -> str | None:
    shown = ID_SHOWN_SHARE[1] if world.people.english[p] else ID_SHOWN_SHARE[0]
    if draw >= shown * (0.3 if dup else 1.0):
        return None
    value = world.people.id_card[p]
    if dice.random() >= INVALID_ID_SHARE / shown:
        return value
    kind = ("bad_checksum", "wrong_length", "birthday_mismatch")[dice.randrange(0, 3)]
    problems.records["invalid_id_cards"].append(ProblemRecord(key=member_id, kind=kind))
    if kind == "bad_checksum":
        right = resident_id_check_digit(value[:17])
        return value[:17] + next(c for c in "0123456789X" if c != right and c != value[17])
    if kind == "wrong_length":
        return value[:10] + value[11:]
    return _shifted_birth(value)


def _shifted_birth(value: str) -> str:
    """Same person, but the ID's birth date is a different (valid) day, checksum recomputed."""
    born = np.datetime64(f"{value[6:10]}-{value[10:12]}-{value[12:14]}", "D") + np.timedelta64(
        37, "D"
    )
    body = value[:6] + str(born).replace("-", "") + value[14:17]
    return body + resident_id_check_digit(body)


def _points_rows(
    rng: np.random.Generator, world: World, spend: FloatArray, last: IntArray
) -> list[tuple[str, int, int, str | None]]:
    lifetime = np.floor(spend).astype(np.int64)
    balance = (lifetime * rng.uniform(0.2, 1.0, size=len(spend))).astype(np.int64)
    earned = local_text(np.maximum(last, 0))
    return [
        (
            world.members.member_id[k],
            int(lifetime[k]),
            int(balance[k]),
            earned[k] if last[k] >= 0 else None,
        )
        for k in range(len(spend))
    ]
