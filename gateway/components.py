"""The parts the app is assembled from: routers and start hooks, one line each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter

from gateway.agencies.endpoints import router as agencies_router
from gateway.auth.endpoints import router as auth_router
from gateway.auth.state import start_auth
from gateway.inbox.endpoints import router as inbox_router
from gateway.inbox.lifecycle import start_inbox
from gateway.referrals.endpoints import router as referrals_router

if TYPE_CHECKING:
    from gateway.app import StartHook

ROUTERS: list[APIRouter] = []
START_HOOKS: list[StartHook] = []

START_HOOKS.append(start_auth)
ROUTERS.append(auth_router)
ROUTERS.append(agencies_router)
START_HOOKS.append(start_inbox)
ROUTERS.append(referrals_router)
ROUTERS.append(inbox_router)
