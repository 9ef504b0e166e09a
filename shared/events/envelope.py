"""The CloudEvents envelope every event travels in, and the base of every event contract."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from shared.clock import utcnow

TYPE_PREFIX = "com.b2b."
CONTENT_TYPE = "application/cloudevents+json"
# A record's event type beside its value, so a consumer skips the types it does not handle
# without parsing the envelope. Not a `ce_` header: that would put CloudEvents SDKs in binary
# mode (the record is in structured mode).
EVENT_TYPE_HEADER = "event-type"


class EventContract(BaseModel):
    """One frozen class per event version. Never change a published one; add fields or a V2.

    Consumers ignore fields they do not know (extra="ignore"), so adding fields is safe.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: ClassVar[str]  # e.g. "company.upserted.v1"
    topic: ClassVar[str]  # e.g. "accounts.company"
    aggregate_type: ClassVar[str]  # e.g. "company"
    # The field whose value keys the record (and is the envelope's subject): one company's,
    # one client's events stay in order on one partition.
    aggregate_key: ClassVar[str]  # e.g. "company_id"

    def aggregate_id(self) -> str:
        return str(getattr(self, self.aggregate_key))

    @classmethod
    def full_type(cls) -> str:
        return TYPE_PREFIX + cls.event_type


def _is_none(value: Any) -> bool:
    return value is None


def _no_default(schema: dict[str, Any]) -> None:
    """An optional attribute is absent, never null: no `default: null` in its schema."""
    schema.pop("default", None)


class CloudEvent(BaseModel):
    """Every attribute is always sent (the JSON schema, taken in serialization mode, requires
    them all): a consumer deduplicating by `id` can count on one."""

    model_config = ConfigDict(extra="ignore", json_schema_serialization_defaults_required=True)

    specversion: Literal["1.0"] = "1.0"
    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    source: str
    type: str
    subject: str
    time: datetime = Field(default_factory=utcnow)
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any]
    # The CloudEvents distributed-tracing extension: the W3C trace context of the request that
    # recorded the event, which its consumers continue. Absent (not null) when it had none.
    traceparent: Annotated[
        str | None,
        WithJsonSchema(
            {
                "type": "string",
                "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                "description": "W3C trace context of the request that recorded the event "
                "(CloudEvents distributed-tracing extension); absent when it was not traced",
                "examples": ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
            }
        ),
    ] = Field(None, exclude_if=_is_none, json_schema_extra=_no_default)
    tracestate: Annotated[
        str | None,
        WithJsonSchema(
            {
                "type": "string",
                "description": "W3C `tracestate` beside `traceparent`, when the trace has one",
            }
        ),
    ] = Field(None, exclude_if=_is_none, json_schema_extra=_no_default)


_REGISTRY: dict[str, type[EventContract]] = {}


def register(cls: type[EventContract]) -> type[EventContract]:
    """Class decorator for the product's published contracts (shared/contracts): what the
    AsyncAPI document, webhook subscriptions and notifications' every-topic consumer know. A
    consumer parses with the contracts of its handlers, so a test's own contract is not
    registered: no service would otherwise subscribe to its topic."""
    _REGISTRY[cls.full_type()] = cls
    return cls


def contract_for(event_type: str) -> type[EventContract] | None:
    return _REGISTRY.get(event_type)


def all_contracts() -> dict[str, type[EventContract]]:
    import shared.contracts  # noqa: F401 - importing registers every contract

    return dict(_REGISTRY)
