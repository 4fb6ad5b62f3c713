"""Standard Webhooks signatures, checked with the reference ``standardwebhooks`` library."""

from __future__ import annotations

import base64
import time

import pytest
from cryptography.exceptions import InvalidTag
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from gateway.subscriptions.signing import SecretBox, new_secret, secret_key, webhook_headers


def test_secret_is_whsec_base64_of_32_random_bytes() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert secret_key(secret) == base64.b64decode(secret.removeprefix("whsec_"))
    assert new_secret() != secret


def test_signature_verifies_with_the_standardwebhooks_library() -> None:
    secret = new_secret()
    body = b'{"type":"gn.mno.referral.submitted.v1","data":{"id":"x"}}'
    headers = webhook_headers(secret, "evt-1", int(time.time()), body)
    assert Webhook(secret).verify(body, headers) == {
        "type": "gn.mno.referral.submitted.v1",
        "data": {"id": "x"},
    }


def test_a_changed_body_or_another_secret_fails_verification() -> None:
    secret = new_secret()
    body = b'{"a":1}'
    headers = webhook_headers(secret, "evt-2", int(time.time()), body)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"a":2}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)


def test_sealed_secret_opens_only_for_its_own_endpoint() -> None:
    box = SecretBox("test-master-secret")
    secret = new_secret()
    sealed = box.seal(secret, "endpoint-1")
    assert secret not in sealed
    assert box.open(sealed, "endpoint-1") == secret
    with pytest.raises(InvalidTag):
        box.open(sealed, "endpoint-2")
    with pytest.raises(InvalidTag):
        SecretBox("another-master-secret").open(sealed, "endpoint-1")
