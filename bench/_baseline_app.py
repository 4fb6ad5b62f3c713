"""The baseline for bench/submissions.py: a bare FastAPI endpoint taking the same JSON body."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI


def create() -> FastAPI:
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/echo", status_code=201)
    async def echo(body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "size": len(body)}

    return app
