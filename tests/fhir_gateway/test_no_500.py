"""Property test: nothing a client sends produces a 500; every failure is an OperationOutcome."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fhir_gateway.conftest import Api, hb_observation

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)

FIELDS = [
    "status",
    "code",
    "subject",
    "effectiveDateTime",
    "valueQuantity",
    "category",
    "id",
    "meta",
    "resourceType",
]


@st.composite
def mutated_observations(draw: st.DrawFn) -> dict[str, Any]:
    obs: dict[str, Any] = hb_observation("p1")
    for field in draw(st.lists(st.sampled_from(FIELDS), max_size=3)):
        obs[field] = draw(json_values)
    return obs


@st.composite
def mutated_bundles(draw: st.DrawFn) -> Any:
    entry = draw(
        st.fixed_dictionaries(
            {"resource": mutated_observations() | json_values},
            optional={
                "request": st.fixed_dictionaries(
                    {
                        "method": st.sampled_from(["POST", "PUT", "GET", "DELETE", "X"]) | json_values,
                        "url": st.sampled_from(["Observation", "Patient/1", "Observation?code=1", "a/b/c/d"])
                        | json_values,
                    }
                )
                | json_values,
                "fullUrl": st.sampled_from(["urn:uuid:1", "x"]) | json_values,
            },
        )
    )
    return {
        "resourceType": "Bundle",
        "type": draw(st.sampled_from(["transaction", "batch", "collection"]) | json_values),
        "entry": draw(st.lists(st.just(entry), max_size=2) | json_values),
    }


def _check(response: Any) -> None:
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        assert response.json()["resourceType"] == "OperationOutcome"


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@SETTINGS
@given(body=mutated_observations() | json_values)
def test_create_never_500(api: Api, body: Any) -> None:
    _check(api.client.post("/fhir/Observation", content=json.dumps(body), headers=api.headers()))


@SETTINGS
@given(body=mutated_bundles())
def test_bundle_never_500(api: Api, body: Any) -> None:
    _check(api.client.post("/fhir", content=json.dumps(body), headers=api.headers()))


@SETTINGS
@given(
    params=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "patient",
                    "subject",
                    "code",
                    "date",
                    "_count",
                    "_offset",
                    "_sort",
                    "_id",
                    "identifier",
                    "category",
                    "_lastUpdated",
                    "x",
                    "code:text",
                ]
            ),
            st.text(max_size=30),
        ),
        max_size=4,
    ),
    rtype=st.sampled_from(["Observation", "Patient", "DiagnosticReport", "Nope"]),
)
def test_search_never_500(api: Api, params: list[tuple[str, str]], rtype: str) -> None:
    _check(api.client.get(f"/fhir/{rtype}", params=params, headers=api.headers()))


@SETTINGS
@given(
    raw=st.binary(max_size=200),
    ctype=st.sampled_from(["application/fhir+json", "application/json", "text/plain", ""]),
)
def test_raw_bytes_never_500(api: Api, raw: bytes, ctype: str) -> None:
    headers = {**api.headers(), "Content-Type": ctype}
    _check(api.client.post("/fhir/Patient", content=raw, headers=headers))
    _check(api.client.put("/fhir/Patient/abc", content=raw, headers=headers))
