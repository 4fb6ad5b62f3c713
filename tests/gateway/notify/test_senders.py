"""The channels on real local servers: SMTP (aiosmtpd) and an HTTP SMS gateway."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from gateway.notify.senders import NoticeFailed, send_email, send_sms
from gateway.settings import Settings
from tests.gateway.notify.smtp import Mailbox
from tests.gateway.subscriptions.receiver import Receiver, Request


def settings(**values: object) -> Settings:
    return Settings(**values)  # type: ignore[arg-type]


async def test_email_reaches_a_real_smtp_server_in_utf8_french(mailbox: Mailbox) -> None:
    config = settings(
        smtp_host="127.0.0.1", smtp_port=mailbox.port, smtp_from="mno@passerelle.example.gov.gn"
    )
    await send_email(
        config,
        to="orientation@agence-b.example.org",
        subject="[MNO] Nouveau référencement reçu / New referral received",
        body="Bonjour,\n\nVotre agence a reçu un référencement.\n",
    )
    [mail] = await mailbox.wait_for(1)
    assert mail.recipients == ["orientation@agence-b.example.org"]
    assert mail.sender == "mno@passerelle.example.gov.gn"
    assert mail.subject == "[MNO] Nouveau référencement reçu / New referral received"
    assert "Votre agence a reçu un référencement." in mail.text
    assert mail.message["Content-Language"] == "fr, en"
    assert mail.message["Auto-Submitted"] == "auto-generated"


async def test_email_without_smtp_is_a_permanent_skip() -> None:
    with pytest.raises(NoticeFailed) as err:
        await send_email(settings(), to="a@b.example.org", subject="s", body="b")
    assert err.value.permanent
    assert err.value.reason == "smtp_not_configured"


async def test_email_to_a_closed_port_is_retriable() -> None:
    from tests.gateway.subscriptions.receiver import free_port

    config = settings(smtp_host="127.0.0.1", smtp_port=free_port())
    with pytest.raises(NoticeFailed) as err:
        await send_email(config, to="a@b.example.org", subject="s", body="b")
    assert not err.value.permanent


async def test_sms_is_posted_with_the_configured_auth_and_body_template() -> None:
    async with Receiver() as gateway, httpx.AsyncClient() as http:
        config = settings(
            sms_url=gateway.url,
            sms_token=SecretStr("jeton-sms-test"),
            sms_sender="MNO-GN",
            sms_body_template='{"sender": {{ sender|tojson }}, "msisdn": {{ to|tojson }}, '
            '"message": {{ text|tojson }}}',
        )
        await send_sms(http, config, to="+224620000001", text="MNO : référencement « reçu »")
    [request] = gateway.requests
    assert request.headers["authorization"] == "Bearer jeton-sms-test"
    assert request.headers["content-type"] == "application/json"
    assert request.json == {
        "sender": "MNO-GN",
        "msisdn": "+224620000001",
        "message": "MNO : référencement « reçu »",
    }


@pytest.mark.parametrize(("status", "permanent"), [(500, False), (429, False), (400, True)])
async def test_sms_gateway_errors_are_sorted_into_retriable_and_permanent(
    status: int, permanent: bool
) -> None:
    async def answer(_request: Request, _attempt: int) -> int:
        return status

    async with Receiver(answer) as gateway, httpx.AsyncClient() as http:
        with pytest.raises(NoticeFailed) as err:
            await send_sms(http, settings(sms_url=gateway.url), to="+224620000001", text="x")
    assert err.value.permanent is permanent
    assert err.value.reason == f"sms:http_{status}"
