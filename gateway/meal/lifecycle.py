"""Start hook: load the logframe and the DHIS2 mapping once; endpoints read them from here."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

from gateway.errors import MnoError, ServiceUnavailable
from gateway.meal.dhis2 import DEFAULT_MAPPING, Dhis2Mapping, load_mapping
from gateway.meal.logframe import DEFAULT_LOGFRAME, Logframe, load_logframe
from gateway.runtime import Runtime

logger = logging.getLogger("mno.meal")
KEY = "meal"


@dataclass(frozen=True)
class MealConfig:
    frame: Logframe | None
    mapping: Dhis2Mapping | None
    problem: str | None = None


def load_config(logframe: Path | None = None, mapping: Path | None = None) -> MealConfig:
    try:
        frame = load_logframe(logframe or DEFAULT_LOGFRAME)
        dhis2 = load_mapping(mapping or DEFAULT_MAPPING, frame)
    except MnoError as exc:
        # The rest of the gateway keeps serving; the MEAL endpoints answer 503 with the reason.
        logger.error("meal configuration unusable", extra={"reason": exc.message_en[:200]})
        return MealConfig(None, None, exc.message_en)
    return MealConfig(frame, dhis2)


async def start_meal(runtime: Runtime, stack: AsyncExitStack) -> None:
    runtime.components[KEY] = load_config()


def meal_config(runtime: Runtime) -> tuple[Logframe, Dhis2Mapping]:
    config: MealConfig | None = runtime.components.get(KEY)
    if config is None or config.frame is None or config.mapping is None:
        reason = config.problem if config else "not started"
        raise ServiceUnavailable(
            f"Configuration MEAL indisponible ({reason}) : lancez « mno meal check ».",
            f"MEAL configuration unavailable ({reason}): run 'mno meal check'.",
            code="meal_unavailable",
        )
    return config.frame, config.mapping
