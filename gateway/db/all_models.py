"""Imports every table module so that ``Base.metadata`` is complete (migrations, tests)."""

from __future__ import annotations

from gateway.audit import models as audit_models  # noqa: F401 - audit chain
from gateway.auth import models as auth_models  # noqa: F401 - agencies, clients, keys
from gateway.breakglass import models as breakglass_models  # noqa: F401 - break-glass grants
from gateway.connectors_api import models as connector_models  # noqa: F401 - heartbeats
from gateway.consent import models as consent_models  # noqa: F401 - consents, purge receipts
from gateway.db.base import Base
from gateway.directory import models as directory_models  # noqa: F401 - directory
from gateway.linkage import models as linkage_models  # noqa: F401 - linkage ledger
from gateway.meal import models as meal_models  # noqa: F401 - MEAL facts, staff users
from gateway.notify import models as notify_models  # noqa: F401 - focal points, notices
from gateway.outbox import models as outbox_models  # noqa: F401 - outbox
from gateway.outbox import processed as processed_models  # noqa: F401 - consumer idempotency
from gateway.referrals import models as referral_models  # noqa: F401 - referrals, history
from gateway.subscriptions import models as subscription_models  # noqa: F401 - webhooks

metadata = Base.metadata
