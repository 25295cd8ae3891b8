"""Loyalty membership records, including the duplicates real CRMs accumulate.

Why: a CRM holds *records*, not people. About 3% of members signed up a second time (a new phone,
a forgotten card at another store), so one person owns two member IDs. Member IDs are issued in
registration order, like a real sequence, and every record keeps the index of its true person.

Example::

    members = enrol_members(seed, people)
    members.member_id[members.primary[0]]   # person 0's main member ID (if a member)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from custodia.demo.chinese_ids import mobile_numbers
from custodia.demo.population import Population
from custodia.demo.vectors import BoolArray, IntArray, substream

DUPLICATE_CARD_SHARE = 0.4


@dataclass(frozen=True)
class Members:
    """Member records sorted by registration time; ``primary``/``second`` index them per person."""

    person: IntArray
    member_id: list[str]
    registered_s: IntArray
    duplicate: BoolArray
    primary: IntArray
    second: IntArray

    def __len__(self) -> int:
        return len(self.person)

    def at(self, rng: np.random.Generator, person: IntArray, time_s: IntArray) -> IntArray:
        """The record a person uses at ``time_s``: -1 before joining, sometimes the duplicate."""
        primary = self.primary[person]
        joined = (primary >= 0) & (self.registered_s[np.maximum(primary, 0)] <= time_s)
        second = self.second[person]
        has_second = (second >= 0) & (self.registered_s[np.maximum(second, 0)] <= time_s)
        use_second = has_second & (rng.random(len(person)) < DUPLICATE_CARD_SHARE)
        return np.where(use_second, second, np.where(joined, primary, -1)).astype(np.int64)


def enrol_members(seed: int, people: Population) -> Members:
    """Primary records for members and second records for duplicate sign-ups (new phone)."""
    members = np.flatnonzero(people.member)
    dups = np.flatnonzero(people.duplicate_registered_s >= 0)
    person = np.concatenate([members, dups]).astype(np.int64)
    registered = np.concatenate(
        [people.registered_s[members], people.duplicate_registered_s[dups]]
    ).astype(np.int64)
    duplicate = np.concatenate([np.zeros(len(members), bool), np.ones(len(dups), bool)])
    order = np.lexsort((duplicate, person, registered))
    person, registered, duplicate = person[order], registered[order], duplicate[order]
    primary = np.full(people.n, -1, dtype=np.int64)
    second = np.full(people.n, -1, dtype=np.int64)
    primary[person[~duplicate]] = np.flatnonzero(~duplicate)
    second[person[duplicate]] = np.flatnonzero(duplicate)
    _give_second_phones(seed, people, person[duplicate])
    return Members(
        person=person,
        member_id=[f"M{k + 1:07d}" for k in range(len(person))],
        registered_s=registered,
        duplicate=duplicate,
        primary=primary,
        second=second,
    )


def _give_second_phones(seed: int, people: Population, persons: IntArray) -> None:
    """A duplicate sign-up uses another phone: the person's second one, or a new one."""
    needy = [int(p) for p in persons if people.mobile2[p] is None]
    taken = set(people.mobile) | {m for m in people.mobile2 if m is not None}
    fresh = mobile_numbers(substream(seed, "second_phones"), len(needy), taken)
    for p, phone in zip(needy, fresh, strict=True):
        people.mobile2[p] = phone
