"""The parts the app is assembled from: routers and start hooks, one line each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter

from gateway.agencies.endpoints import router as agencies_router
from gateway.audit.service import start_audit
from gateway.auth.endpoints import router as auth_router
from gateway.auth.state import start_auth
from gateway.breakglass.endpoints import router as breakglass_router
from gateway.connectors_api.endpoints import router as connectors_router
from gateway.consent.endpoints import router as consent_router
from gateway.consent.fhir_endpoints import router as consent_fhir_router
from gateway.dashboard.endpoints import router as dashboard_router
from gateway.dashboard.endpoints import start_dashboard
from gateway.directory.endpoints import router as directory_router
from gateway.directory.pages import router as directory_pages_router
from gateway.fhir.endpoints import router as fhir_router
from gateway.inbox.endpoints import router as inbox_router
from gateway.inbox.lifecycle import start_inbox
from gateway.linkage.endpoints import router as linkage_router
from gateway.meal.endpoints import router as meal_router
from gateway.meal.lifecycle import start_meal
from gateway.notify.endpoints import router as contacts_router
from gateway.policy.service import start_policy
from gateway.referrals.batch import router as referrals_batch_router
from gateway.referrals.endpoints import router as referrals_router
from gateway.subscriptions.endpoints import router as subscriptions_router
from gateway.subscriptions.lifecycle import start_subscriptions

if TYPE_CHECKING:
    from gateway.app import StartHook

ROUTERS: list[APIRouter] = []
START_HOOKS: list[StartHook] = []

START_HOOKS.append(start_auth)
START_HOOKS.append(start_audit)  # every audit lane's head row, before the first request
START_HOOKS.append(start_policy)  # before any part that looks the decision point up
ROUTERS.append(consent_router)
ROUTERS.append(consent_fhir_router)
ROUTERS.append(fhir_router)
ROUTERS.append(breakglass_router)
ROUTERS.append(auth_router)
ROUTERS.append(agencies_router)
START_HOOKS.append(start_inbox)
ROUTERS.append(referrals_router)
ROUTERS.append(referrals_batch_router)
ROUTERS.append(connectors_router)
ROUTERS.append(inbox_router)
ROUTERS.append(directory_router)
ROUTERS.append(directory_pages_router)
START_HOOKS.append(start_subscriptions)
ROUTERS.append(subscriptions_router)
ROUTERS.append(contacts_router)
START_HOOKS.append(start_meal)
ROUTERS.append(meal_router)
START_HOOKS.append(start_dashboard)
ROUTERS.append(dashboard_router)
ROUTERS.append(linkage_router)
