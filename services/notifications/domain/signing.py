"""HMAC-SHA256: webhook signatures our subscribers verify, and the signed tokens of the
unsubscribe and survey links (no login needed: the token is the proof)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import orjson

SIGNATURE_HEADER = "X-B2B-Signature"
TIMESTAMP_HEADER = "X-B2B-Timestamp"
EVENT_ID_HEADER = "X-B2B-Event-Id"
EVENT_TYPE_HEADER = "X-B2B-Event-Type"
DELIVERY_HEADER = "X-B2B-Delivery-Id"
TOLERANCE_SECONDS = 300


def sign_webhook(secret: str, timestamp: int, body: bytes) -> str:
    """`v1=<hex of HMAC-SHA256(secret, "<timestamp>." + body)>`, as Stripe-style receivers expect."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify_webhook(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """What a subscriber does: same MAC, and a timestamp close to now (no replays)."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs((now if now is not None else time.time()) - ts) > tolerance:
        return False
    return hmac.compare_digest(sign_webhook(secret, ts, body), signature)


def webhook_headers(
    secret: str, body: bytes, *, event_id: str, event_type: str, delivery_id: str, now: float
) -> dict[str, str]:
    ts = int(now)
    return {
        "Content-Type": "application/cloudevents+json",
        TIMESTAMP_HEADER: str(ts),
        SIGNATURE_HEADER: sign_webhook(secret, ts, body),
        EVENT_ID_HEADER: event_id,
        EVENT_TYPE_HEADER: event_type,
        DELIVERY_HEADER: delivery_id,
    }


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def link_token(secret: str, purpose: str, **claims: Any) -> str:
    """A URL-safe token carrying `claims` for `purpose` (unsubscribe, survey), signed."""
    payload = _b64(orjson.dumps({"p": purpose, **claims}, option=orjson.OPT_SORT_KEYS))
    mac = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()[:16]
    return f"{payload}.{_b64(mac)}"


def read_link_token(secret: str, purpose: str, token: str) -> dict[str, Any] | None:
    """The claims, or None when the token is forged, damaged or for another purpose."""
    payload, _, mac = token.partition(".")
    try:
        expected = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()[:16]
        if not hmac.compare_digest(expected, _unb64(mac)):
            return None
        claims = orjson.loads(_unb64(payload))
    except (ValueError, orjson.JSONDecodeError):
        return None
    if not isinstance(claims, dict) or claims.pop("p", None) != purpose:
        return None
    return claims
