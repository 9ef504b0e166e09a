"""A small typed client of the gateway: the calls a portal, an ERP connector or a test makes.

Every method is one documented operation (`@operation` names it; a test checks that the
gateway document has it). Errors come back as `ApiProblem`, the RFC 9457 problem parsed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from clients.b2b_client.models import (
    Cart,
    CartSummary,
    ClientProfile,
    Company,
    FeedJob,
    InboxMessage,
    Order,
    OrderSummary,
    Page,
    Product,
    QuickOrderResult,
    Token,
)

PREFIX = "/api/v1"
F = TypeVar("F", bound=Callable[..., Any])


class ApiProblem(Exception):
    """An error answer: status, the problem's type and detail, and the field errors."""

    def __init__(self, response: httpx.Response) -> None:
        try:
            body = response.json()
        except ValueError:
            body = {"detail": response.text}
        self.status = response.status_code
        self.type = body.get("type", "about:blank")
        self.detail = body.get("detail")
        self.errors = body.get("errors", [])
        super().__init__(f"{self.status} {self.type}: {self.detail}")


def operation(method: str, path: str) -> Callable[[F], F]:
    """Marks a method as the client of `method path` (a path of the gateway document)."""

    def mark(func: F) -> F:
        func.__operation__ = (method, path)  # type: ignore[attr-defined]
        return func

    return mark


class B2BClient:
    """`B2BClient("http://127.0.0.1:8000")`, or with `transport=` (an ASGI app in tests).

    Log in with `login` (a person) or pass `api_key` (an integrator or partner).
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        headers = {"X-API-Key": api_key} if api_key else {}
        self.http = httpx.AsyncClient(
            base_url=base_url, headers=headers, transport=transport, timeout=timeout
        )

    async def __aenter__(self) -> B2BClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.http.request(method, PREFIX + path, **kwargs)
        if response.status_code >= 400:
            raise ApiProblem(response)
        return response

    @staticmethod
    def _key(idempotency_key: str | None) -> dict[str, str]:
        return {"Idempotency-Key": idempotency_key} if idempotency_key else {}

    # accounts ---------------------------------------------------------------------------------
    @operation("POST", "/api/v1/accounts/auth/login")
    async def login(self, email: str, password: str) -> Token:
        """Log in; later calls carry the person's token."""
        response = await self._call(
            "POST", "/accounts/auth/login", json={"email": email, "password": password}
        )
        token = Token.model_validate(response.json())
        self.http.headers["Authorization"] = f"Bearer {token.access_token}"
        return token

    @operation("GET", "/api/v1/accounts/companies")
    async def companies(
        self, *, q: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> Page[Company]:
        params = {
            "limit": limit,
            **({"q": q} if q else {}),
            **({"cursor": cursor} if cursor else {}),
        }
        response = await self._call("GET", "/accounts/companies", params=params)
        return Page[Company].model_validate(response.json())

    # feeds (any service) ----------------------------------------------------------------------
    @operation("POST", "/api/v1/{service}/feeds/{kind}")
    async def post_feed(
        self,
        service: str,
        kind: str,
        content: bytes,
        *,
        content_type: str = "text/csv",
        mode: str | None = None,
        idempotency_key: str | None = None,
    ) -> FeedJob:
        """Upload an ERP feed; it is applied in the background (follow it with `feed_job`)."""
        response = await self._call(
            "POST",
            f"/{service}/feeds/{kind}",
            content=content,
            params={"mode": mode} if mode else None,
            headers={"Content-Type": content_type, **self._key(idempotency_key)},
        )
        return FeedJob.model_validate(response.json())

    @operation("GET", "/api/v1/{service}/feeds/{job_id}")
    async def feed_job(self, service: str, job_id: str) -> FeedJob:
        response = await self._call("GET", f"/{service}/feeds/{job_id}")
        return FeedJob.model_validate(response.json())

    # catalog ----------------------------------------------------------------------------------
    @operation("GET", "/api/v1/catalog/products")
    async def search_products(
        self,
        q: str | None = None,
        *,
        client_id: str | None = None,
        with_prices: bool = False,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Product]:
        """A catalog page; with prices, each product carries the client's price for it."""
        params: dict[str, Any] = {"limit": limit}
        if q:
            params["q"] = q
        if client_id:
            params["client_id"] = client_id
        if with_prices:
            params["include"] = "prices"
        if cursor:
            params["cursor"] = cursor
        response = await self._call("GET", "/catalog/products", params=params)
        return Page[Product].model_validate(response.json())

    # orders -----------------------------------------------------------------------------------
    @operation("POST", "/api/v1/orders/carts")
    async def create_cart(self, name: str, *, idempotency_key: str | None = None) -> CartSummary:
        response = await self._call(
            "POST", "/orders/carts", json={"name": name}, headers=self._key(idempotency_key)
        )
        return CartSummary.model_validate(response.json())

    @operation("POST", "/api/v1/orders/carts/{cart_id}/quick-order")
    async def quick_order(self, cart_id: str, lines: str) -> QuickOrderResult:
        """Paste `SKU quantity` lines into a cart."""
        response = await self._call(
            "POST",
            f"/orders/carts/{cart_id}/quick-order",
            content=lines.encode(),
            headers={"Content-Type": "text/plain"},
        )
        return QuickOrderResult.model_validate(response.json())

    @operation("GET", "/api/v1/orders/carts/{cart_id}")
    async def cart(self, cart_id: str) -> Cart:
        response = await self._call("GET", f"/orders/carts/{cart_id}")
        return Cart.model_validate(response.json())

    @operation("POST", "/api/v1/orders/carts/{cart_id}/checkout")
    async def checkout(self, cart_id: str, *, idempotency_key: str) -> Order:
        """Place the cart as an order; the key makes a retry return the same order."""
        response = await self._call(
            "POST", f"/orders/carts/{cart_id}/checkout", headers=self._key(idempotency_key)
        )
        return Order.model_validate(response.json())

    @operation("GET", "/api/v1/orders/orders")
    async def orders(
        self, *, status: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> Page[OrderSummary]:
        params: dict[str, Any] = {"limit": limit}
        if status:
            params["status"] = status
        if cursor:
            params["cursor"] = cursor
        response = await self._call("GET", "/orders/orders", params=params)
        return Page[OrderSummary].model_validate(response.json())

    @operation("GET", "/api/v1/orders/orders/{order_id}")
    async def order(self, order_id: str) -> Order:
        """One order with its lines and shipments."""
        response = await self._call("GET", f"/orders/orders/{order_id}")
        return Order.model_validate(response.json())

    # analytics and notifications --------------------------------------------------------------
    @operation("GET", "/api/v1/analytics/clients/{client_id}/profile")
    async def client_profile(self, client_id: str) -> ClientProfile:
        response = await self._call("GET", f"/analytics/clients/{client_id}/profile")
        return ClientProfile.model_validate(response.json())

    @operation("GET", "/api/v1/notifications/inbox")
    async def inbox(
        self, *, unread: bool | None = None, limit: int = 50, cursor: str | None = None
    ) -> Page[InboxMessage]:
        params: dict[str, Any] = {"limit": limit}
        if unread is not None:
            params["unread"] = str(unread).lower()
        if cursor:
            params["cursor"] = cursor
        response = await self._call("GET", "/notifications/inbox", params=params)
        return Page[InboxMessage].model_validate(response.json())
