"""The parts the app is assembled from: routers and start hooks, one line each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter

if TYPE_CHECKING:
    from gateway.app import StartHook

ROUTERS: list[APIRouter] = []
START_HOOKS: list[StartHook] = []
