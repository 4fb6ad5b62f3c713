"""Imports every table module so that ``Base.metadata`` is complete (migrations, tests)."""

from __future__ import annotations

from gateway.db.base import Base

metadata = Base.metadata
