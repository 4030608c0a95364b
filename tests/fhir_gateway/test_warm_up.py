"""Start-up loads the models and the R4 schema before the first request and freezes the
long-lived objects out of the garbage collector's walks; shutdown makes them collectable again."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient

from fhir_gateway.app import create_app
from fhir_gateway.config import Settings
from models.artifacts import loaded_models


def test_models_are_loaded_and_start_up_objects_frozen_while_serving(settings: Settings) -> None:
    gc.unfreeze()
    loaded_models.cache_clear()
    with TestClient(create_app(settings)):
        assert loaded_models.cache_info().currsize == 1  # loaded before any request
        frozen = gc.get_freeze_count()
        model = next(iter(loaded_models().values()))
        assert frozen > 10_000
        assert gc.is_tracked(model)
        assert all(o is not model for o in gc.get_objects(generation=2))  # frozen: not walked
    assert gc.get_freeze_count() == 0
