"""The FastAPI application factory and its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from gateway import __version__
from gateway.db.engine import make_engine, make_sessionmaker
from gateway.db.migrate import ensure_migrated
from gateway.errors import install_error_handlers
from gateway.ops.endpoints import router as ops_router
from gateway.ops.middleware import RequestContextMiddleware
from gateway.runtime import Runtime
from gateway.settings import Settings

# A start hook receives the runtime and may push cleanups on the exit stack.
StartHook = Callable[[Runtime, AsyncExitStack], Awaitable[None]]

DESCRIPTION = """
**Passerelle du Mécanisme National d'Orientation (MNO), Guinée.**
Échange de référencements pseudonymisés entre agences, sous le protocole d'accord.

*Gateway of Guinea's national referral mechanism: pseudonymised referral exchange between
agencies under the memorandum of understanding.* Authenticate with OAuth2 client credentials
at `/oauth/token`; errors are `application/problem+json`, French by default (send
`Accept-Language: en` for English).
"""


def _start_hooks() -> list[StartHook]:
    from gateway.components import START_HOOKS

    return list(START_HOOKS)


def create_app(settings: Settings | None = None, *, check_migrations: bool = True) -> FastAPI:
    settings = settings or Settings()
    registry = CollectorRegistry()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.resolved_database_url)
        async with AsyncExitStack() as stack:
            stack.push_async_callback(engine.dispose)
            if check_migrations:
                await ensure_migrated(engine)
            runtime = Runtime(
                settings=settings,
                engine=engine,
                sessionmaker=make_sessionmaker(engine),
                metrics=registry,
            )
            for hook in _start_hooks():
                await hook(runtime, stack)
            app.state.runtime = runtime
            yield

    app = FastAPI(
        title="MNO Gateway",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware, registry=registry)
    app.include_router(ops_router)
    from gateway.components import ROUTERS

    for router in ROUTERS:
        app.include_router(router)
    return app
