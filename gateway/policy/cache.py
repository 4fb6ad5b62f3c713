"""A decision cache in front of the policy decision point, invalidated per subject.

Correctness rests on three guards:

* the key holds everything a decision depends on apart from the consent list and the clock: the
  recipient, source, purpose, categories, party, subject context, break-glass grant and the
  caller's ``consent_version`` (bump it whenever the subject's consents change);
* an entry remembers the window of time during which no consent or grant crosses a validity
  boundary; outside that window (a consent expires, a future consent starts) it is recomputed;
* :meth:`CachedDecisionPoint.invalidate_subject` drops a subject's entries when its consents
  change. A caller that loads consents asynchronously takes :meth:`generation` first and passes
  it to :meth:`decide`, so a decision computed from consents read before a withdrawal is never
  stored.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from datetime import UTC, datetime

from gateway.policy.engine import CompiledPolicy, Decision, DecisionRequest, decide_at

_Entry = tuple[Decision, datetime | None, datetime | None]


def _window(request: DecisionRequest, at: datetime) -> tuple[datetime | None, datetime | None]:
    """[low, high): while the clock stays inside, every consent and grant keeps its status."""
    low: datetime | None = None
    high: datetime | None = None
    bounds: list[datetime] = []
    for consent in request.consents:
        bounds.append(consent.valid_from)
        if consent.valid_until is not None:
            bounds.append(consent.valid_until)
    if request.break_glass is not None:
        bounds.append(request.break_glass.valid_from)
        bounds.append(request.break_glass.valid_until)
    for bound in bounds:
        if bound <= at:
            if low is None or bound > low:
                low = bound
        elif high is None or bound < high:
            high = bound
    return low, high


class CachedDecisionPoint:
    """The policy decision point with a bounded, per-subject LRU cache of decisions."""

    def __init__(
        self,
        policy: CompiledPolicy,
        *,
        max_entries: int = 200_000,
        max_tracked_subjects: int = 100_000,
    ) -> None:
        self._policy = policy
        self._max_entries = max_entries
        self._max_tracked = max_tracked_subjects
        self._subjects: OrderedDict[str, dict[Hashable, _Entry]] = OrderedDict()
        self._size = 0
        # Generations are bounded: when the table is trimmed, every older token becomes stale.
        self._floor = 0
        self._epoch = 0
        self._generations: dict[str, int] = {}
        self.hits = 0
        self.misses = 0

    @property
    def policy(self) -> CompiledPolicy:
        return self._policy

    def __len__(self) -> int:
        return self._size

    def generation(self, subject_key: str) -> int:
        """A token to take before loading a subject's consents (see :meth:`decide`)."""
        return self._generations.get(subject_key, self._floor)

    def decide(self, request: DecisionRequest, *, generation: int | None = None) -> Decision:
        """Decide, from the cache when a still-valid decision for the same inputs is held."""
        at = request.at or datetime.now(UTC)
        subject_key = request.subject_key
        if subject_key is None:
            self.misses += 1
            return decide_at(self._policy, request, at)
        key = (
            request.recipient,
            request.source,
            request.purpose,
            request.data_categories,
            request.party,
            request.subject,
            request.consent_version,
            request.break_glass,
        )
        entries = self._subjects.get(subject_key)
        if entries is not None:
            entry = entries.get(key)
            if entry is not None:
                decision, low, high = entry
                if (low is None or low <= at) and (high is None or at < high):
                    self.hits += 1
                    self._subjects.move_to_end(subject_key)
                    return decision
        self.misses += 1
        decision = decide_at(self._policy, request, at)
        if generation is not None and generation != self.generation(subject_key):
            return decision
        if entries is None:
            entries = self._subjects[subject_key] = {}
        else:
            self._subjects.move_to_end(subject_key)
        if key not in entries:
            self._size += 1
        low, high = _window(request, at)
        entries[key] = (decision, low, high)
        while self._size > self._max_entries and len(self._subjects) > 1:
            _, evicted = self._subjects.popitem(last=False)
            self._size -= len(evicted)
        return decision

    def invalidate_subject(self, subject_key: str) -> int:
        """Forget a subject's decisions; call on every consent change. Returns entries dropped."""
        self._epoch += 1
        if len(self._generations) >= self._max_tracked:
            self._floor = self._epoch
            self._generations.clear()
        self._generations[subject_key] = self._epoch
        entries = self._subjects.pop(subject_key, None)
        if entries is None:
            return 0
        self._size -= len(entries)
        return len(entries)

    def clear(self) -> None:
        """Forget everything (e.g. when the policy file is reloaded)."""
        self._subjects.clear()
        self._size = 0
        self._epoch += 1
        self._floor = self._epoch
        self._generations.clear()
