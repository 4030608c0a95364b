"""What is stored must keep its spelling: the MAC input is part of every stored chain (changing
it by one byte makes every existing audit log fail verification), and the encrypted JSON body is
what readers of old records parse. These known answers pin both."""

import hashlib
import hmac
from datetime import UTC, datetime, timedelta, timezone

import pytest

from audit.chain import Place, SearchColumns, _field, head_mac, row_mac
from audit.record import AuditRecord

KEY = bytes(range(32))
COLUMNS = SearchColumns(
    recorded_at=datetime(2026, 11, 28, 4, 31, 24, 123456, tzinfo=UTC),
    action="C",
    interaction="create",
    outcome=0,
    http_status=201,
    resource_type="Observation",
    agent_role="clinician",
    agent_index="ab" * 32,
    patient_index=None,
    entity_index="cd" * 32,
)
PLACE = Place(seq=7, lane=2, position=5)
NONCE = bytes(range(12))
CIPHERTEXT = b"ciphertext\x00\xff"


def _spelled_out(prev_mac: bytes) -> bytes:
    """The row MAC's input as chain.py documents it: a tag, then every field length-prefixed
    (4 bytes, big-endian); integers in decimal; None as ff ff ff ff."""

    def f(value: bytes | None) -> bytes:
        return b"\xff\xff\xff\xff" if value is None else len(value).to_bytes(4, "big") + value

    return b"".join(
        [
            b"cbc-audit-row/v1",
            f(prev_mac),
            f(b"7"),
            f(b"2"),
            f(b"5"),
            f(b"2026-11-28T04:31:24.123456+00:00"),
            f(b"C"),
            f(b"create"),
            f(b"0"),
            f(b"201"),
            f(b"Observation"),
            f(b"clinician"),
            f(b"ab" * 32),
            f(None),
            f(b"cd" * 32),
            f(b"3"),
            f(NONCE),
            f(CIPHERTEXT),
        ]
    )


def test_row_mac_is_hmac_sha256_over_the_documented_encoding() -> None:
    prev = bytes(32)
    mac = row_mac(KEY, prev, PLACE, COLUMNS, 3, NONCE, CIPHERTEXT)
    assert mac == hmac.new(KEY, _spelled_out(prev), hashlib.sha256).digest()
    assert mac.hex() == "5301db0d29425e729ffc49074e03d1e4a69b009d62f84cd817a311b684476688"


def test_every_field_counts() -> None:
    base = row_mac(KEY, bytes(32), PLACE, COLUMNS, 3, NONCE, CIPHERTEXT)
    assert row_mac(KEY, b"\x01" + bytes(31), PLACE, COLUMNS, 3, NONCE, CIPHERTEXT) != base
    assert row_mac(KEY, bytes(32), Place(7, 2, 6), COLUMNS, 3, NONCE, CIPHERTEXT) != base
    assert row_mac(KEY, bytes(32), PLACE, COLUMNS, 4, NONCE, CIPHERTEXT) != base
    # None and "" differ, and a value cannot slide into its neighbour
    empty = COLUMNS._replace(patient_index="")
    assert row_mac(KEY, bytes(32), PLACE, empty, 3, NONCE, CIPHERTEXT) != base
    shifted = COLUMNS._replace(resource_type="Observationc", agent_role="linician")
    assert row_mac(KEY, bytes(32), PLACE, shifted, 3, NONCE, CIPHERTEXT) != base


def test_head_mac_known_answer() -> None:
    mac = row_mac(KEY, bytes(32), PLACE, COLUMNS, 3, NONCE, CIPHERTEXT)
    expected = "05f0cb95a2de723dea436d4810651c239cf68ccb89834a01604ad5b8958a89e8"
    assert head_mac(KEY, 2, 5, mac).hex() == expected


def test_json_body_known_answer() -> None:
    record = AuditRecord.from_http(
        "create",
        201,
        agent_sub="u1",
        agent_role="clinician",
        client_id="c",
        source_address="10.0.0.1",
        request_id="r-1",
        resource_type="Observation",
        resource_id="o1",
        version_id="1",
        patient="p9",
        recorded=datetime(2026, 11, 28, 6, 31, 24, tzinfo=timezone(timedelta(hours=2))),
    )
    assert record.to_json_bytes() == (
        b'{"action":"C","agent_role":"clinician","agent_sub":"u1","client_id":"c","format":1,'
        b'"http_status":201,"interaction":"create","outcome":0,"patient":"Patient/p9",'
        b'"recorded":"2026-11-28T04:31:24.000000+00:00","request_id":"r-1","resource_id":"o1",'
        b'"resource_type":"Observation","source_address":"10.0.0.1","version_id":"1"}'
    )
    assert AuditRecord.from_json_bytes(record.to_json_bytes()) == record


def test_plain_values_are_coerced_to_the_enums() -> None:
    record = AuditRecord(
        action="R", interaction="read", outcome=4, http_status=403, recorded=COLUMNS.recorded_at
    )
    assert record.to_json_bytes() == (
        b'{"action":"R","format":1,"http_status":403,"interaction":"read","outcome":4,'
        b'"recorded":"2026-11-28T04:31:24.123456+00:00"}'
    )
    assert AuditRecord.from_json_bytes(record.to_json_bytes()) == record


def _reference_row_mac(
    prev: bytes, place: Place, c: SearchColumns, version: int, nonce: bytes, ct: bytes
) -> bytes:
    """The documented encoding, field by field through chain._field (no shortcuts)."""
    values = (prev, place.seq, place.lane, place.position, c.recorded_at.isoformat(timespec="microseconds"))
    rest = (c.action, c.interaction, c.outcome, c.http_status, c.resource_type, c.agent_role)
    more = (c.agent_index, c.patient_index, c.entity_index, version, nonce, ct)
    return hmac.new(
        KEY, b"cbc-audit-row/v1" + b"".join(_field(v) for v in (*values, *rest, *more)), "sha256"
    ).digest()


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"http_status": None, "resource_type": None, "agent_role": None, "agent_index": None},
        {"resource_type": "", "agent_role": "", "patient_index": "", "entity_index": ""},
        {"agent_role": "klinikerin-ä", "resource_type": "Observation", "outcome": 12, "http_status": 500},
        {"action": "R", "interaction": "search-type", "outcome": 4, "http_status": 403},
    ],
)
def test_row_mac_matches_the_plain_encoding_whatever_the_values(changes: dict[str, object]) -> None:
    columns = COLUMNS._replace(**changes)
    for place, version in (
        (PLACE, 3),
        (Place(123456789, 63, 98765), 1),
        (PLACE, 3),
    ):  # again: cached spellings
        expected = _reference_row_mac(bytes(32), place, columns, version, NONCE, CIPHERTEXT)
        assert row_mac(KEY, bytes(32), place, columns, version, NONCE, CIPHERTEXT) == expected
