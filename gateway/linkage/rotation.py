"""``mno linkage rekey``: one more re-keying layer on every stored linkage value.

Stored values are ``layer_N(... layer_1(agency value))``. HMAC cannot be inverted, but layers
compose: the command draws a random secret for layer N+1, applies it to every stored token and
(permutation) Bloom filter, recomputes the blocking keys, and records the layer, all in one
transaction that holds the versions exclusively; referral submissions wait for it, then go
through N+1 layers. Agencies resubmit nothing, and the MoU key is never needed.

Given the previous master secret too (``MNO_PREVIOUS_SECRET_KEY``, after ``MNO_SECRET_KEY``
changed), it first unwraps the existing layer secrets with it, and wraps every layer under the
current one.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.linkage import repository
from gateway.linkage.blocking import block_keys
from gateway.linkage.layers import (
    forget_layers,
    layers_from_rows,
    new_layer_row,
    rekeyer,
    unwrap,
    wrap,
)
from gateway.linkage.models import LinkageBlockRow

BATCH = 1000


@dataclass(frozen=True)
class RekeyReport:
    from_version: int
    to_version: int
    records: int
    tokens: int
    rewrapped: bool


async def rotate(
    session: AsyncSession, *, root: bytes, previous_root: bytes | None = None
) -> RekeyReport:
    """Add layer N+1 over every stored value (never commits: the caller does, once)."""
    rows = await repository.key_versions(session, lock="update")
    unwrap_root = previous_root if previous_root is not None else root
    layers_from_rows(unwrap_root, rows)  # every existing layer must unwrap before any change
    if previous_root is not None:
        for row in rows:
            secret = unwrap(previous_root, row.version, row.wrapped_secret)
            row.wrapped_secret = wrap(root, row.version, secret)
    current = len(rows)
    target = current + 1
    new_row, new_secret = new_layer_row(root, target)
    layer = rekeyer(target, new_secret)
    records = tokens = 0
    after = 0
    while current:
        batch = await repository.records_after(session, after, BATCH, below_version=target)
        if not batch:
            break
        after = batch[-1].id
        ids = [record.id for record in batch]
        with_bloom = [record for record in batch if record.bloom]
        permuted = layer.blooms([base64.b64decode(record.bloom or "") for record in with_bloom])
        for record, bloom in zip(with_bloom, permuted, strict=True):
            record.bloom = base64.b64encode(bloom).decode("ascii")
        for record in batch:
            if record.pseudonym:
                record.pseudonym = layer.token(record.pseudonym)
            record.key_version = target
        for token_row in await repository.token_rows_of(session, ids):
            token_row.token = layer.token(token_row.token)
            token_row.key_version = target
            tokens += 1
        # The sampled positions now see other bits: blocking keys are recomputed.
        await repository.delete_blocks(session, ids)
        for record, bloom in zip(with_bloom, permuted, strict=True):
            for key in dict.fromkeys(block_keys(bloom, record.birth_year)):
                repository.add(session, LinkageBlockRow(block=key, record_id=record.id))
        records += len(batch)
        await session.flush()
    repository.add(session, new_row)
    await session.flush()
    forget_layers()  # this process stages under the new layer from now on
    return RekeyReport(current, target, records, tokens, previous_root is not None)
