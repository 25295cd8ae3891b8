"""Error bodies and logs carry no raw personal data, even when the input was full of it.

A scenario of refused requests, each carrying a phone, resident ID or email the workspace does not
hold (or holds): an unknown customer looked up by phone, a malformed phone, a consent with an
unknown purpose, a consent whose fields fail validation with personal values in them, an unmask
request for an unknown customer, request bodies and parameters that fail schema validation (422)
with personal values in them. Every answer must be a 4xx, and its body and every log record
written meanwhile (caplog, all loggers, DEBUG) are searched with the personal-data detector and
as plain text: none of the values comes back. (The test client's own request lines are left out:
they are the client's, and a server's access log is covered in docs/security-testing.md.)
"""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from custodia.privacy.pii_detect import PiiDetector

SecuredWorkspace = Any  # tests/security/conftest.py
PHONE, BAD_PHONE, KNOWN_PHONE = "13912349876", "1391234987", "13812340001"
RESIDENT_ID, EMAIL = "11010519900305456X", "li.si@example.com"
VALUES = (PHONE, BAD_PHONE, KNOWN_PHONE, RESIDENT_ID, EMAIL)
CLIENT_LOGGERS = ("httpx", "httpcore")  # the test client's own request lines, not the server's
CONSENT = {"purpose": "marketing", "status": "granted", "channel": "store", "notice_version": "v1",
           "actor": "customer"}  # fmt: skip


def _refusals(api: TestClient, auth: Any) -> list[tuple[str, Any]]:
    """(what, response) for each refused request of the scenario."""
    officer, agent = auth("privacy_officer"), auth("service_agent")
    return [
        ("unknown phone", api.get(f"/v1/profiles/phone:{PHONE}", headers=agent)),
        ("malformed phone", api.get(f"/v1/profiles/phone:{BAD_PHONE}/traits", headers=agent)),
        ("unknown id", api.get(f"/v1/profiles/resident_id:{RESIDENT_ID}", headers=agent)),
        ("unknown email", api.get(f"/v1/profiles/email:{EMAIL}/orders", headers=agent)),
        ("consent, unknown purpose", api.post(f"/v1/profiles/phone:{KNOWN_PHONE}/consents",
            json={**CONSENT, "purpose": "spam"}, headers=officer)),
        ("consent, personal values in fields", api.post(
            f"/v1/profiles/phone:{KNOWN_PHONE}/consents", headers=officer,
            json={**CONSENT, "status": PHONE, "channel": EMAIL, "actor": RESIDENT_ID})),
        ("consent for unknown customer", api.post(f"/v1/profiles/email:{EMAIL}/consents",
            json=CONSENT, headers=officer)),
        ("unmask for unknown customer", api.post("/v1/unmask-requests", headers=auth(
            "risk_officer"), json={"profile": f"phone:{PHONE}", "purpose": "x", "fields": [
                "phone"]})),
        ("profile ref too long for an unmask request", api.post("/v1/unmask-requests",
            headers=auth("risk_officer"), json={"profile": f"phone:{PHONE} {EMAIL} " + "x" * 400,
            "purpose": "x", "fields": ["phone"]})),
        ("a phone in an integer parameter", api.get(
            f"/v1/profiles/member_id:M1/events?limit={PHONE}&offset=x{RESIDENT_ID}",
            headers=agent)),
        ("query with a phone literal", api.post("/v1/query", headers=auth("analyst"),
            json={"sql": f"SELECT * FROM nowhere WHERE phone = '{PHONE}'"})),
    ]  # fmt: skip


def _digits(text: str) -> str:
    return re.sub(r"[^0-9Xx@.a-z]", "", text)


def _leaks(detector: PiiDetector, text: str) -> list[str]:
    """Which of VALUES the text holds: as plain text, or as a detector finding equal to one."""
    found = {v for v in VALUES if v in text}
    for finding in detector.find(text):
        span = _digits(text[finding.start : finding.end])
        found |= {v for v in VALUES if _digits(v) == span}
    return sorted(found)


@pytest.fixture
def refusals(
    api: TestClient, secured: SecuredWorkspace, caplog: pytest.LogCaptureFixture
) -> tuple[list[tuple[str, Any]], list[str]]:
    with caplog.at_level(logging.DEBUG):
        answers = _refusals(api, secured.auth)
    server = [r for r in caplog.records if not r.name.startswith(CLIENT_LOGGERS)]
    return answers, [f"{record.name}: {record.getMessage()}" for record in server]


def test_every_refusal_is_a_4xx(refusals: tuple[list[tuple[str, Any]], list[str]]) -> None:
    answers, _logs = refusals
    assert {what: r.status_code for what, r in answers if not 400 <= r.status_code < 500} == {}


def test_no_value_in_any_error_body(refusals: tuple[list[tuple[str, Any]], list[str]]) -> None:
    detector = PiiDetector()
    answers, _logs = refusals
    leaked = {what: _leaks(detector, r.text) for what, r in answers}
    assert {what: values for what, values in leaked.items() if values} == {}


def test_no_value_in_any_log_record(refusals: tuple[list[tuple[str, Any]], list[str]]) -> None:
    detector = PiiDetector()
    _answers, logs = refusals
    assert [line for line in logs if _leaks(detector, line)] == []


def test_the_check_finds_a_value_when_there_is_one() -> None:
    detector = PiiDetector()
    assert _leaks(detector, f"no profile for phone {PHONE[:3]} {PHONE[3:7]} {PHONE[7:]}") == [PHONE]
    assert _leaks(detector, f'{{"input": "{EMAIL}"}}') == [EMAIL]


def test_the_server_access_log_keeps_identifiers_out() -> None:
    """uvicorn logs each request path; a server app redacts profile references in it."""
    from custodia.api.access_log import ACCESS_LOGGER, install_access_log_redaction

    install_access_log_redaction()
    install_access_log_redaction()
    logger, lines = logging.getLogger(ACCESS_LOGGER), []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logger.addHandler(handler)
    level, logger.level = logger.level, logging.INFO
    try:
        for path in (f"/v1/profiles/phone:{PHONE}/traits?limit=5", f"/v1/profiles/email%3A{EMAIL}",
                     f"/v1/profiles/resident_id:{RESIDENT_ID}", "/v1/runs?limit=5"):  # fmt: skip
            logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", path, "1.1", 200)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    detector = PiiDetector()
    assert [line for line in lines if _leaks(detector, line)] == []
    assert lines[0].endswith('"GET /v1/profiles/phone:***/traits?limit=5 HTTP/1.1" 200')
    assert "/v1/runs?limit=5" in lines[3]
    assert sum(isinstance(f, type(logger.filters[0])) for f in logger.filters) == 1
