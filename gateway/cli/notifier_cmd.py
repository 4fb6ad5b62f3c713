"""``mno notifier``: webhooks, e-mail and SMS from the agency inboxes, one process."""

from __future__ import annotations

from gateway.cli.workers_cmd import _serve
from gateway.settings import Settings


def run_notifier() -> None:
    from consumers.notifier.handler import Notifier

    _serve("notifier", lambda bootstrap, sm: Notifier(bootstrap, sm, Settings()).run)
