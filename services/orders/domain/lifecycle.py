"""The order state machine: which status may follow which, and who may move it; and what an
ERP update that repeats or arrives late means."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

# placed -> confirmed (ERP) -> shipped -> delivered; cancelled while nothing has left.
TRANSITIONS: dict[str, frozenset[str]] = {
    "pending_approval": frozenset({"placed", "credit_hold", "cancelled"}),
    "credit_hold": frozenset({"placed", "cancelled"}),
    "placed": frozenset({"confirmed", "shipped", "delivered", "cancelled"}),
    "confirmed": frozenset({"shipped", "delivered", "cancelled"}),
    "shipped": frozenset({"delivered"}),
    "delivered": frozenset(),
    "cancelled": frozenset(),
}
# Statuses ERP reports; ERP may skip a step (a same-day delivery is never "shipped" first).
ERP_STATUSES = ("confirmed", "shipped", "delivered", "cancelled")
# Not yet sent to ERP: the company or the credit manager still has to let it go.
WAITING = frozenset({"pending_approval", "credit_hold"})
# The way forward an order travels, skipping steps or not.
FORWARD = ("placed", "confirmed", "shipped", "delivered")


class TransitionRefused(ValueError):
    pass


def check_transition(current: str, wanted: str) -> None:
    if wanted == current:
        return  # ERP repeating itself is harmless
    if wanted not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing"
        raise TransitionRefused(f"a {current} order cannot become {wanted} (allowed: {allowed})")


def moves(
    current: str,
    wanted: str,
    at: datetime | None = None,
    reached: Mapping[str, datetime | None] | None = None,
) -> bool:
    """Whether the order moves to `wanted`; False when the update changes nothing.
    TransitionRefused when it may not move, or contradicts what the order went through.

    `reached`: when the order reached each status it went through. With the update's time
    `at`, an ERP update that arrives again or late changes nothing:
    - the status the order is in (whatever its time: ERP repeating itself);
    - a status the order went through at that very time (a batch sent again after a timeout);
    - a step forward the order skipped (ERP reported `delivered` before `shipped`) reported
      no later than the order reached where it is now.
    A status it went through at another time, or a step back to a later time, is a regression.
    """
    if wanted == current:
        return False
    if at is not None and reached is not None:
        went_through = reached.get(wanted)
        if went_through is not None:
            if went_through == at:
                return False
            raise TransitionRefused(
                f"was {wanted} at {went_through.isoformat()}, not at {at.isoformat()}"
            )
        since = reached.get(current)
        if _behind(wanted, current) and since is not None and at <= since:
            return False
    check_transition(current, wanted)
    return True


def _behind(wanted: str, current: str) -> bool:
    return (
        wanted in FORWARD and current in FORWARD and FORWARD.index(wanted) < FORWARD.index(current)
    )


def ships_with_first_part(current: str) -> bool:
    """Whether a shipment leaving moves the order to `shipped`: True at the first part (a
    placed or confirmed order), False when it has shipped already; TransitionRefused for an
    order that cannot ship (waiting, delivered, cancelled)."""
    if current == "shipped":
        return False
    if "shipped" not in TRANSITIONS[current]:
        raise TransitionRefused(f"a {current} order cannot ship")
    return True
