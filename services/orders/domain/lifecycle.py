"""The order state machine: which status may follow which, and who may move it."""

from __future__ import annotations

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


class TransitionRefused(ValueError):
    pass


def check_transition(current: str, wanted: str) -> None:
    if wanted == current:
        return  # ERP repeating itself is harmless
    if wanted not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing"
        raise TransitionRefused(f"a {current} order cannot become {wanted} (allowed: {allowed})")
