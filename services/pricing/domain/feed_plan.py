"""What the price feed's passes learn and plan, as data: the first pass's counts and anchor
cells, and the factoring's plan (derived lists, members, gaps, exceptions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from services.pricing.domain import factoring
from shared.feeds.validation import (
    ROW,
)

CELL_SCHEMA = pa.schema(
    [
        (ROW, pa.int64()),
        ("client_id", pa.int64()),
        ("sku_id", pa.int64()),
        ("price", pa.int64()),
        ("currency", pa.string()),
    ]
)


@dataclass
class FirstPass:
    rows_total: int = 0
    cells: int = 0
    others: list[pl.DataFrame] = field(default_factory=list)
    rejections: list[pl.DataFrame] = field(default_factory=list)
    anchors: np.ndarray | None = None
    anchor_cells: list[pl.DataFrame] = field(default_factory=list)
    clients: set[int] = field(default_factory=set)


@dataclass
class Plan:
    cells_path: Path
    rejected_rows: pl.DataFrame  # _row of rejected cells: left out of every pass
    cells: int = 0
    clients: list[int] = field(default_factory=list)
    members: pl.DataFrame | None = None  # client_id, cluster, bp
    base: pl.DataFrame | None = None  # cluster, sku_id, base, currency
    gaps: pl.DataFrame | None = None  # client_id, sku_id
    fit: factoring.Fit | None = None
    exceptions: int = 0

    def report(self) -> dict[str, Any]:
        if self.members is None or not self.cells:
            return {"cells": self.cells, "contract_rows": self.exceptions}
        lists = self.base["cluster"].n_unique() if self.base is not None else 0
        stored = (
            (self.base.height if self.base is not None else 0)
            + self.exceptions
            + (self.gaps.height if self.gaps is not None else 0)
            + self.members.height
        )
        return {
            "cells": self.cells,
            "derived_lists": lists,
            "clients_on_derived_lists": self.members.height,
            "list_entries": self.base.height if self.base is not None else 0,
            "contract_rows": self.exceptions,
            "gaps": self.gaps.height if self.gaps is not None else 0,
            "stored_rows": stored,
            "compression": round(self.cells / stored, 1) if stored else None,
        }
