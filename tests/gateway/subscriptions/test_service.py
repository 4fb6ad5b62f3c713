"""Subscription rules that need no database: URLs, event types, ordering keys."""

from __future__ import annotations

import pytest

from gateway.errors import ValidationFailed
from gateway.subscriptions.service import (
    check_event_types,
    check_url,
    ordering_key,
    wants,
)


@pytest.mark.parametrize(
    "url",
    ["https://sih.example.org/mno/hooks", "https://41.79.11.5:8443/hook?agency=x"],
)
def test_https_to_public_hosts_is_accepted_in_production(url: str) -> None:
    assert check_url(url, "prod") == url


@pytest.mark.parametrize(
    ("url", "code_hint"),
    [
        ("http://sih.example.org/hook", "HTTPS"),
        ("https://localhost/hook", "internal"),
        ("https://10.1.2.3/hook", "internal"),
        ("https://169.254.169.254/latest", "internal"),
        ("https://user:pass@sih.example.org/hook", "credentials"),
        ("ftp://sih.example.org/hook", "https"),
    ],
)
def test_production_refuses_plain_http_internal_hosts_and_credentials(
    url: str, code_hint: str
) -> None:
    with pytest.raises(ValidationFailed) as err:
        check_url(url, "prod")
    assert err.value.code == "invalid_webhook_url"
    assert code_hint in err.value.message_en
    assert err.value.message_fr.startswith("URL de webhook refusée")


def test_development_allows_plain_http_to_loopback_only() -> None:
    assert check_url("http://127.0.0.1:9000/hook", "dev")
    assert check_url("http://localhost:9000/hook", "dev")
    assert check_url("http://[::1]:9000/hook", "dev")
    assert check_url("https://sih.example.org/hook", "dev")
    with pytest.raises(ValidationFailed):
        check_url("http://sih.example.org/hook", "dev")
    with pytest.raises(ValidationFailed):
        check_url("http://192.168.1.10/hook", "dev")


def test_event_types_must_be_known_and_star_means_all() -> None:
    assert check_event_types(["gn.mno.referral.submitted.v1"] * 2) == [
        "gn.mno.referral.submitted.v1"
    ]
    assert check_event_types(["gn.mno.referral.submitted.v1", "*"]) == ["*"]
    with pytest.raises(ValidationFailed) as err:
        check_event_types(["gn.mno.referral.eaten.v1"])
    assert "gn.mno.referral.eaten.v1" in err.value.message_fr
    assert wants(["*"], "gn.mno.consent.withdrawn.v1")
    assert not wants(["gn.mno.referral.submitted.v1"], "gn.mno.consent.withdrawn.v1")


def test_events_of_one_referral_share_an_ordering_key_that_hides_the_key() -> None:
    first = {"id": "e1", "partitionkey": "referral-1", "subject": "referral-1"}
    second = {"id": "e2", "partitionkey": "referral-1", "subject": "referral-1"}
    other = {"id": "e3", "partitionkey": "referral-2"}
    assert ordering_key(first) == ordering_key(second) != ordering_key(other)
    assert "referral-1" not in ordering_key(first)
    assert len(ordering_key(first)) == 40
