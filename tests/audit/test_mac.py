import hmac

import pytest

from audit import mac
from audit.mac import hmac_sha256


@pytest.mark.parametrize("key_len", [1, 32, 63, 64, 65, 200])
@pytest.mark.parametrize("msg_len", [0, 1, 55, 56, 64, 119, 400])
def test_equals_the_standard_library(key_len: int, msg_len: int) -> None:
    key = bytes((7 * i + key_len) % 256 for i in range(key_len))
    message = bytes((3 * i) % 256 for i in range(msg_len))
    assert hmac_sha256(key, message) == hmac.digest(key, message, "sha256")


def test_cached_keyed_objects_are_not_consumed_by_use() -> None:
    k1, k2 = b"\x01" * 32, b"\x02" * 32
    first = [hmac_sha256(k1, b"a"), hmac_sha256(k2, b"a")]
    # Interleaved and repeated: a state updated in place would change every later answer.
    assert [hmac_sha256(k1, b"a"), hmac_sha256(k2, b"a")] == first
    assert hmac_sha256(k1, b"b") == hmac.digest(k1, b"b", "sha256")


def test_key_table_stays_bounded() -> None:
    for i in range(mac._MAX_KEYS * 3):
        key = i.to_bytes(32, "big")
        assert hmac_sha256(key, b"m") == hmac.digest(key, b"m", "sha256")
    assert len(mac._KEYED) <= mac._MAX_KEYS
