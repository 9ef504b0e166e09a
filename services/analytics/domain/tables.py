"""The named tables of the segmentation: RFM segments and the ABC/XYZ matrix's actions.

Both can be replaced through settings (ANALYTICS_RFM_SEGMENTS_JSON, ANALYTICS_MATRIX_ACTIONS_JSON).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RfmSegment:
    """A named RFM segment: scores (1..5) within these inclusive ranges; first match wins."""

    name: str
    r: tuple[int, int] = (1, 5)
    f: tuple[int, int] = (1, 5)
    m: tuple[int, int] = (1, 5)

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> RfmSegment:
        def rng(key: str) -> tuple[int, int]:
            low, high = raw.get(key, (1, 5))
            return int(low), int(high)

        return cls(name=str(raw["name"]), r=rng("r"), f=rng("f"), m=rng("m"))


RFM_SEGMENTS: tuple[RfmSegment, ...] = (
    RfmSegment("champions", r=(4, 5), f=(4, 5), m=(4, 5)),
    RfmSegment("loyal", r=(3, 5), f=(4, 5)),
    RfmSegment("new", r=(5, 5), f=(1, 1)),
    RfmSegment("potential_loyalist", r=(4, 5), f=(2, 3)),
    RfmSegment("cant_lose", r=(1, 1), f=(4, 5)),
    RfmSegment("at_risk", r=(1, 2), f=(3, 5)),
    RfmSegment("lost", r=(1, 1), f=(1, 2)),
    RfmSegment("hibernating", r=(2, 2), f=(1, 2)),
    RfmSegment("need_attention"),
)

MATRIX_ACTIONS: dict[str, str] = {
    "AX": "Keep stock and supply guaranteed; automatic replenishment, a dedicated manager",
    "AY": "Key client with seasonal swings: plan with the client, safety stock before peaks",
    "AZ": "Big but unpredictable: personal manager, order-by-order forecasting, no stock bets",
    "BX": "Steady middle client: grow the basket with cross-sell and volume offers",
    "BY": "Middle client with swings: regular contact, reminders before its usual peaks",
    "BZ": "Middle, erratic: find out why it buys irregularly; offer a supply contract",
    "CX": "Small but steady: serve through self-service, automate reorders",
    "CY": "Small with swings: self-service and campaign offers only",
    "CZ": "Small and erratic: minimum effort; consider minimum-order terms",
}


def rfm_segments(raw: list[dict[str, Any]] | None) -> tuple[RfmSegment, ...]:
    return tuple(RfmSegment.parse(r) for r in raw) if raw else RFM_SEGMENTS


def matrix_actions(raw: dict[str, str] | None) -> dict[str, str]:
    return {**MATRIX_ACTIONS, **(raw or {})}
