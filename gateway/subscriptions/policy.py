"""The policy re-check before a copy leaves again (a replay, a retry after a long wait).

The router already decided on each inbox copy; this asks again, because a consent withdrawn
since then stops future sharing, including retries and replays. The decision point is provided
by the consent/policy part: ``runtime.components["delivery_policy"]`` in the app, and
``gateway.policy.service.recheck_delivery`` elsewhere (the notifier); where neither exists, the
routing decision stands.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from sqlalchemy.ext.asyncio import AsyncSession

POLICY_MODULE = "gateway.policy.service"
POLICY_FUNCTION = "recheck_delivery"
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
    """The interim answer: the router's decision, recorded on the copy, stands."""
    return DeliveryVerdict(True, str(envelope.get("mnopolicyversion") or "as-routed"))


def resolve_delivery_policy(components: Mapping[str, Any] | None = None) -> DeliveryPolicy:
    """A configured component first, then the policy part's function, else ``as_routed``."""
    if components is not None and components.get(COMPONENT) is not None:
        return cast(DeliveryPolicy, components[COMPONENT])
    try:
        module = importlib.import_module(POLICY_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != POLICY_MODULE:
            raise  # the module exists but is broken: do not silently share without a check
        return as_routed
    found = getattr(module, POLICY_FUNCTION, None)
    return cast(DeliveryPolicy, found) if callable(found) else as_routed
