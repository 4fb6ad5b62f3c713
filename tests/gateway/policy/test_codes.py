"""The policy file model spells the canonical code lists of schemas.codes, in the same order."""

from __future__ import annotations

from gateway.policy.models import AGENCY_KINDS, DATA_CATEGORIES, PURPOSES
from schemas.codes import AgencyKind, ConsentPurpose, DataCategory


def test_policy_code_lists_are_the_canonical_ones() -> None:
    assert list(AGENCY_KINDS) == [k.value for k in AgencyKind]
    assert list(PURPOSES) == [p.value for p in ConsentPurpose]
    # The engine lists permitted categories in this order: the contract's order.
    assert list(DATA_CATEGORIES) == [c.value for c in DataCategory]
