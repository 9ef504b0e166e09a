"""The kernel's middleware frame: HTTP requests reach the middleware, the lifespan passes by."""

from __future__ import annotations

from starlette.types import Message, Receive, Scope, Send

from shared.asgi import HttpMiddleware


async def test_only_http_requests_reach_the_middleware_and_the_rest_reach_the_app_untouched():
    reached_app: list[Scope] = []
    reached_middleware: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        reached_app.append(scope)

    class Recording(HttpMiddleware):
        async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
            reached_middleware.append(scope["path"])
            await self.app({**scope, "seen": True}, receive, send)

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        pass

    middleware = Recording(app)
    lifespan = {"type": "lifespan"}
    await middleware(lifespan, receive, send)
    await middleware({"type": "http", "path": "/widgets"}, receive, send)
    assert reached_app == [lifespan, {"type": "http", "path": "/widgets", "seen": True}]
    assert reached_app[0] is lifespan
    assert reached_middleware == ["/widgets"]
