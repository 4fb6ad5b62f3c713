from __future__ import annotations

import pytest

from gateway.errors import Conflict, Forbidden
from gateway.referrals.workflow import next_status
from schemas.codes import ReferralAction, ReferralStatus
from schemas.referral import TRANSITIONS

A, S = ReferralAction, ReferralStatus


def test_receiver_moves_a_referral_through_the_sop() -> None:
    status = S.SUBMITTED
    status = next_status(status, A.ACKNOWLEDGE, "receiver")
    status = next_status(status, A.ACCEPT, "receiver")
    status = next_status(status, A.COMPLETE, "receiver")
    status = next_status(status, A.CLOSE, "referrer")
    assert status == S.CLOSED


def test_only_the_referrer_cancels() -> None:
    with pytest.raises(Forbidden):
        next_status(S.SUBMITTED, A.CANCEL, "receiver")
    assert next_status(S.ACCEPTED, A.CANCEL, "referrer") == S.CANCELLED


def test_only_the_receiver_accepts() -> None:
    with pytest.raises(Forbidden) as err:
        next_status(S.SUBMITTED, A.ACCEPT, "referrer")
    assert "destinataire" in err.value.message_fr


def test_no_step_out_of_a_closed_or_cancelled_referral() -> None:
    for status in (S.CLOSED, S.CANCELLED):
        for action in TRANSITIONS:
            for role in ("referrer", "receiver"):
                with pytest.raises((Conflict, Forbidden)):
                    next_status(status, action, role)  # type: ignore[arg-type]


def test_submit_is_not_a_transition() -> None:
    with pytest.raises(Conflict):
        next_status(S.SUBMITTED, A.SUBMIT, "referrer")


def test_accepting_a_completed_referral_is_a_conflict_naming_the_status() -> None:
    with pytest.raises(Conflict) as err:
        next_status(S.COMPLETED, A.ACCEPT, "receiver")
    assert "completed" in err.value.message_en
