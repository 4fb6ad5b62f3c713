"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from gateway.deps import RuntimeDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    """Readiness: the database answers and, when configured, the broker."""
    checks: dict[str, Any] = {}
    ok = True
    try:
        async with runtime.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means "not ready"; the reason is the type only
        ok = False
        checks["database"] = f"error: {type(exc).__name__}"
    for name, probe in runtime.components.get("readiness", {}).items():
        try:
            checks[name] = "ok" if await probe() else "unavailable"
        except Exception as exc:  # same: report, do not raise
            checks[name] = f"error: {type(exc).__name__}"
        ok = ok and checks[name] == "ok"
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )


@router.get("/metrics", include_in_schema=False)
async def metrics(runtime: RuntimeDep) -> Response:
    """Prometheus exposition."""
    return Response(generate_latest(runtime.metrics), media_type=CONTENT_TYPE_LATEST)
