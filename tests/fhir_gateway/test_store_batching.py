"""The store queues new versions and inserts them in batches; a unit of work must still see its own
writes, commit them all, and lose them all on rollback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fhir_gateway.config import Settings
from fhir_gateway.fhir.search_params import SearchQuery, TokenCondition
from fhir_gateway.runtime import Runtime
from tests.fhir_gateway.conftest import hb_observation, patient


@pytest.fixture
def rt(settings: Settings) -> Iterator[Runtime]:
    runtime = Runtime.start(settings)
    yield runtime
    runtime.close()


def _by_code(code: str) -> SearchQuery:
    return SearchQuery(
        "Observation", tokens=[TokenCondition("code", (("http://loinc.org", code),))], count=100
    )


def test_queued_writes_are_visible_to_reads_in_the_same_unit_of_work(rt: Runtime) -> None:
    with rt.unit_of_work() as session:
        store = rt.store(session)
        p = store.create(patient())
        obs = store.create(hb_observation(p.resource_id))
        assert store.read("Patient", p.resource_id).resource["gender"] == "female"
        found, total = store.search(_by_code("718-7"))
        assert total == 1 and found[0].resource_id == obs.resource_id
        # An update in the same unit of work supersedes the queued first version.
        store.update({**patient(), "gender": "male"}, p.resource_id)
        assert store.read("Patient", p.resource_id).version_id == 2


def test_queued_writes_commit_with_their_search_tokens(rt: Runtime) -> None:
    with rt.unit_of_work() as session:
        store = rt.store(session)
        expected: dict[str, dict[str, float]] = {"718-7": {}, "4544-3": {}}
        for i in range(30):
            obs = hb_observation("p1", value=10 + i)
            code = "718-7" if i % 3 else "4544-3"
            obs["code"]["coding"][0] = {"system": "http://loinc.org", "code": code}
            expected[code][store.create(obs).resource_id] = 10 + i
    # Each row got its own body and its own tokens: batched primary keys were not mixed up.
    for code, values in expected.items():
        with rt.unit_of_work() as session:
            found, total = rt.store(session).search(_by_code(code))
        assert total == len(values)
        assert {r.resource_id: r.resource["valueQuantity"]["value"] for r in found} == values


def test_rollback_discards_queued_and_flushed_writes(rt: Runtime) -> None:
    with pytest.raises(RuntimeError), rt.unit_of_work() as session:
        store = rt.store(session)
        store.create(hb_observation("p1"))
        store.search(_by_code("718-7"))  # flushes the first
        store.create(hb_observation("p1"))  # stays queued
        raise RuntimeError("request failed")
    with rt.unit_of_work() as session:
        assert rt.store(session).search(_by_code("718-7"))[1] == 0
        assert not session.info.get("resource_store.pending")
