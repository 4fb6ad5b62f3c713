"""Start hook: the outbound HTTP client (verification pings) and the secret box of the app."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass

import httpx

from gateway.runtime import Runtime
from gateway.subscriptions.signing import SecretBox
from gateway.subscriptions.webhooks import new_http_client

COMPONENT = "subscriptions"


@dataclass(frozen=True)
class SubscriptionTools:
    http: httpx.AsyncClient
    box: SecretBox


async def start_subscriptions(runtime: Runtime, stack: AsyncExitStack) -> None:
    http = new_http_client(max_connections=20)
    stack.push_async_callback(http.aclose)
    box = SecretBox(runtime.settings.secret_key.get_secret_value())
    runtime.components[COMPONENT] = SubscriptionTools(http, box)


def subscription_tools(runtime: Runtime) -> SubscriptionTools:
    tools = runtime.components[COMPONENT]
    assert isinstance(tools, SubscriptionTools)  # noqa: S101 - set by the start hook above
    return tools
