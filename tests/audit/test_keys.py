import pytest

from audit import AuditKeys, IndexKind
from tests.audit.support import derived


def test_repr_never_shows_key_bytes() -> None:
    keys = AuditKeys.generate().rotated()
    text = repr(keys)
    assert "versions=[1, 2]" in text
    for key in (keys.mac_key, keys.index_key, keys.current_key):
        assert key.hex() not in text
        assert repr(key) not in text


def test_rejects_bad_key_material() -> None:
    good = derived("a")
    with pytest.raises(ValueError, match="32 bytes"):
        AuditKeys({1: b"short"}, 1, derived("m"), derived("i"))
    with pytest.raises(ValueError, match="current key version"):
        AuditKeys({1: good}, 2, derived("m"), derived("i"))
    with pytest.raises(ValueError, match="must differ"):
        AuditKeys({1: good}, 1, derived("m"), derived("m"))


def test_blind_index_is_keyed_and_separated_by_kind() -> None:
    keys = AuditKeys.generate()
    other = AuditKeys.generate()
    assert keys.blind_index(IndexKind.PATIENT, "Patient/1") == keys.blind_index(
        IndexKind.PATIENT, "Patient/1"
    )
    assert keys.blind_index(IndexKind.PATIENT, "Patient/1") != other.blind_index(
        IndexKind.PATIENT, "Patient/1"
    )
    assert keys.blind_index(IndexKind.PATIENT, "x") != keys.blind_index(IndexKind.AGENT, "x")


def test_caller_mutating_its_mapping_does_not_change_keys() -> None:
    source = {1: derived("k1")}
    keys = AuditKeys(source, 1, derived("m"), derived("i"))
    source[1] = derived("other")
    assert keys.encryption_key(1) == derived("k1")
