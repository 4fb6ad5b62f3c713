"""The CloudEvent written to the outbox for each referral change."""

from __future__ import annotations

from typing import Any

from schemas.codes import ReferralAction
from schemas.events import event_type_for_action, make_envelope
from schemas.referral import Referral

SOURCE = "/mno/gateway/referrals"


def referral_event(referral: Referral, action: ReferralAction) -> dict[str, Any]:
    """Structured CloudEvent (as a dict) for ``action`` on ``referral``; data = the snapshot."""
    return make_envelope(
        type=event_type_for_action(action),
        source=SOURCE,
        subject=str(referral.id),
        data=referral.model_dump(mode="json"),
    )
