"""The policy re-check before a copy leaves again (a replay, a retry after a long wait).

The router already decided on each inbox copy; this asks again, because a consent withdrawn
since then stops future sharing, including retries and replays. The decision point is provided
by the consent/policy part: ``runtime.components["delivery_policy"]`` in the app, and
``gateway.policy.service.recheck_delivery`` elsewhere (the notifier). Both are plain imports:
there is no fallback that would let a copy leave without a policy check (fail closed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from sqlalchemy.ext.asyncio import AsyncSession

COMPONENT = "delivery_policy"


class Verdict(Protocol):
    """What a re-check answers; ``envelope`` is the copy redacted to what is permitted now
    (never more than it held), or None to send the copy as it is."""

    @property
    def permit(self) -> bool: ...

    @property
    def policy_version(self) -> str: ...

    @property
    def reasons(self) -> tuple[str, ...]: ...

    @property
    def envelope(self) -> Mapping[str, Any] | None: ...


@dataclass(frozen=True)
class DeliveryVerdict:
    permit: bool
    policy_version: str
    reasons: tuple[str, ...] = field(default_factory=tuple)
    envelope: Mapping[str, Any] | None = None


class DeliveryPolicy(Protocol):
    """May ``recipient`` receive this (already redacted) inbox copy again, now?"""

    async def __call__(
        self, session: AsyncSession, *, recipient: str, envelope: Mapping[str, Any]
    ) -> Verdict: ...


async def as_routed(
    session: AsyncSession, *, recipient: str, envelope: Mapping[str, Any]
) -> DeliveryVerdict:
    """The router's decision, recorded on the copy, stands: for tests of the delivery mechanics
    only, never chosen implicitly by ``resolve_delivery_policy``."""
    return DeliveryVerdict(True, str(envelope.get("mnopolicyversion") or "as-routed"))


def resolve_delivery_policy(components: Mapping[str, Any] | None = None) -> DeliveryPolicy:
    """The app's configured decision point first, else the policy part's own function.

    A plain import (no ``importlib``, no fallback): if the policy part cannot be imported the
    process fails at start rather than delivering copies unchecked.
    """
    if components is not None and components.get(COMPONENT) is not None:
        return cast(DeliveryPolicy, components[COMPONENT])
    from gateway.policy.service import recheck_delivery  # deferred: policy loads the engine

    return recheck_delivery
