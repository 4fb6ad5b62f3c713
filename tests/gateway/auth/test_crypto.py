"""Client secret hashing and at-rest encryption of signing keys."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag

from gateway.auth.crypto import (
    KeyEncryptor,
    hash_client_secret,
    new_client_secret,
    verify_client_secret,
)


def test_secrets_are_long_and_random() -> None:
    one, two = new_client_secret(), new_client_secret()
    assert one != two
    assert len(one) >= 43  # 32 bytes in base64url


def test_secret_hash_is_salted_scrypt() -> None:
    secret = new_client_secret()
    first, second = hash_client_secret(secret), hash_client_secret(secret)
    assert first.startswith("scrypt$16384$8$1$")
    assert first != second  # per-secret salt
    assert secret not in first
    assert verify_client_secret(secret, first)
    assert verify_client_secret(secret, second)
    assert not verify_client_secret(secret + "x", first)
    assert not verify_client_secret(secret, None)
    assert not verify_client_secret(secret, "md5$abc")


def test_key_encryption_round_trips_and_binds_the_kid() -> None:
    encryptor = KeyEncryptor("un-secret-de-test")
    sealed = encryptor.encrypt(b'{"d": "private"}', "kid-1")
    assert b"private" not in sealed.encode()
    assert encryptor.decrypt(sealed, "kid-1") == b'{"d": "private"}'
    with pytest.raises(InvalidTag):
        encryptor.decrypt(sealed, "kid-2")
    with pytest.raises(InvalidTag):
        KeyEncryptor("un-autre-secret").decrypt(sealed, "kid-1")
