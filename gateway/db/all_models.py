"""Imports every table module so that ``Base.metadata`` is complete (migrations, tests)."""

from __future__ import annotations

from gateway.audit import models as audit_models  # noqa: F401 - audit chain
from gateway.auth import models as auth_models  # noqa: F401 - agencies, clients, keys
from gateway.db.base import Base
from gateway.outbox import models as outbox_models  # noqa: F401 - outbox
from gateway.outbox import processed as processed_models  # noqa: F401 - consumer idempotency
from gateway.referrals import models as referral_models  # noqa: F401 - referrals, history

metadata = Base.metadata
