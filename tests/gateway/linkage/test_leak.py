"""The MoU members' shared linkage key never reaches the gateway; only re-keyed values are kept.

The key file's bytes (and the sub-keys the kit derives from them) are looked for in the
gateway's settings, in every request the agencies send, in every log line, and in every column
of every table; the agencies' own tokens and Bloom filters are looked for in the tables and logs.
"""

from __future__ import annotations

import base64
import binascii
import logging
from pathlib import Path

import pytest
from httpx import AsyncClient, Request
from sqlalchemy import select

from connectors.pseudonym.bloom import DEFAULT_BITS
from connectors.pseudonym.encoder import Pseudonymiser
from connectors.pseudonym.keys import load_key_file
from gateway.db.all_models import metadata
from gateway.linkage.layers import layers_from_rows
from gateway.linkage.models import LinkageKeyVersion, LinkagePending, LinkageRecordRow
from gateway.linkage.rekey import linkage_secret
from tests.conftest import Database
from tests.gateway.linkage.conftest import (
    ADULTS,
    Agencies,
    encode,
    link_waiting,
    match_body,
    refer,
    register,
    subject_of,
)


def forms(secret: bytes) -> set[str]:
    """Every text form a key could be written in."""
    b64 = base64.b64encode(secret).decode()
    url = base64.urlsafe_b64encode(secret).decode()
    return {b64, b64.rstrip("="), url, url.rstrip("="), binascii.hexlify(secret).decode()}


def secret_values(settings: object) -> str:
    dumped = settings.model_dump()  # type: ignore[attr-defined]
    return " ".join(
        v.get_secret_value() if hasattr(v, "get_secret_value") else str(v) for v in dumped.values()
    )


async def test_the_shared_key_never_reaches_the_gateway(
    client: AsyncClient,
    database: Database,
    agencies: Agencies,
    key_file: Path,
    kit: Pseudonymiser,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    key = load_key_file(key_file)
    key_forms = set().union(
        forms(key.secret), forms(key.derive("tokens")), forms(key.derive(f"bloom/{DEFAULT_BITS}"))
    )
    sent: list[str] = []

    async def record(request: Request) -> None:
        sent.append(f"{request.url} {dict(request.headers)} {request.content.decode()}")

    client.event_hooks["request"].append(record)
    agency_values: set[str] = set()
    first_pseudonym = ""
    for name, party, seed in (("A", agencies.a, 1), ("B", agencies.b, 2)):
        for record_ in register(name, ADULTS[:3], seed):
            encoding = encode(kit, record_)
            agency_values |= {encoding.pseudonym, *encoding.tokens, encoding.bloom_text}
            first_pseudonym = first_pseudonym or encoding.pseudonym
            response = await refer(
                client, party, agencies.provider, subject_of(encoding), ["vocational_training"]
            )
            assert response.status_code == 201
    # What waits for the linkage worker is already through the gateway's layers.
    async with database.engine.connect() as conn:
        waiting = " ".join((await conn.execute(select(LinkagePending.probe))).scalars())
    assert waiting
    assert not any(value in waiting for value in agency_values | key_forms)
    assert await link_waiting(database) == 6
    response = await client.post(
        "/v1/subjects/match", json=match_body(encoding, "referral"), headers=agencies.b.auth
    )
    assert response.json()["matched_subjects"] == 1

    # Settings: the test's and the running app's, secrets revealed.
    runtime_settings = client.app.state.runtime.settings  # type: ignore[attr-defined]
    for settings in (database.settings(), runtime_settings):
        text = secret_values(settings)
        assert not any(form in text for form in key_forms)
    # Requests the agencies sent: tokens and filters, never the key they were made with.
    assert len(sent) == 7
    assert not any(form in request for request in sent for form in key_forms)
    # Log lines, with their extra fields.
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert logged
    assert not any(value in logged for value in key_forms | agency_values)
    # Every column of every table.
    dumped: list[str] = []
    async with database.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in await conn.execute(select(table)):
                dumped.extend(str(value) for value in row)
    everything = "\n".join(dumped)
    assert not [form for form in key_forms if form in everything]
    assert not [value for value in agency_values if value in everything]
    if database.backend == "sqlite":  # and the raw bytes of the database files
        files = b"".join(p.read_bytes() for p in database.data_dir.glob("mno.db*"))
        assert key.secret not in files
    # What is kept is the gateway's re-keying of the agency values.
    async with database.engine.connect() as conn:
        versions = (await conn.execute(select(LinkageKeyVersion))).all()
        pseudonyms = set((await conn.execute(select(LinkageRecordRow.pseudonym))).scalars())
    layers = layers_from_rows(linkage_secret(database.settings()), versions)  # type: ignore[arg-type]
    assert layers.token(first_pseudonym) in pseudonyms
