"""A real SMTP server for the notify tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.gateway.notify.smtp import Mailbox, running_mailbox


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    yield from running_mailbox()
