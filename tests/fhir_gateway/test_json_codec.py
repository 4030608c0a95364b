from __future__ import annotations

import json

from fhir_gateway.fhir import json_codec


def test_round_trips_unicode_compactly() -> None:
    value = {"resourceType": "Patient", "name": [{"family": "Øster-Ünal"}], "x": [1.5, None, True]}
    raw = json_codec.dumps(value)
    assert b" " not in raw and "Øster".encode() in raw  # compact, not \u-escaped
    assert json_codec.loads(raw) == value == json.loads(raw)


def test_integers_beyond_64_bits_still_serialise() -> None:
    value = {"valueInteger": 10**30}
    assert json.loads(json_codec.dumps(value)) == value
