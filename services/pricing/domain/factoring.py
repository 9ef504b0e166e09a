"""Matrix factoring: an explicit client x SKU price matrix stored as a few derived lists.

ERPs export a personal price for every (client, SKU), but most clients share a price type,
often with one uniform percent on top, plus a few personal exceptions. We find those types:

1. Anchors: a sample of SKUs. Each client's anchor prices are cut into bands; a band's key is
   the order of its prices, which a uniform percent does not change. Two clients sharing the
   keys of any two bands are linked (one exception spoils a band, rarely two of the pair);
   linked clients form a cluster (label propagation over the links).
2. Per cluster, the base vector is the per-SKU most common price among its "core" members:
   those whose anchor prices are the cluster's most common exact anchor vector.
3. Each member's percent is the most common ratio of its anchor prices to the base's, in
   basis points. Every cell is then checked: base * (10000 + bp) / 10000, rounded half up,
   must equal the feed's price exactly; any other cell is kept as a contract row, and a SKU
   of the base the client was not given becomes a gap. Correctness never rests on step 1:
   a bad cluster only costs compression.

All functions take and return polars frames; none touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from services.pricing.domain.batch import with_markup

BAND = 8
BANDS = 6
ANCHORS = BAND * BANDS
CORE_MEMBERS = 3
CANDIDATE_VECTORS = 6
FIT_SAMPLE = 20  # members per cluster that judge which vector makes the best base


def choose_anchors(sku_ids: np.ndarray) -> np.ndarray:
    """Evenly spread SKUs from those the feed's cells use."""
    ids = np.unique(sku_ids)
    if len(ids) <= ANCHORS:
        return ids
    return ids[np.linspace(0, len(ids) - 1, ANCHORS).astype(np.int64)]


@dataclass
class Anchors:
    """Every client's prices at the anchor SKUs: one row per client, 0 where it has none."""

    clients: np.ndarray  # sorted client ids
    prices: np.ndarray  # (clients, anchors)

    @classmethod
    def of(cls, anchor_cells: pl.DataFrame, anchors: np.ndarray) -> Anchors:
        clients = np.unique(anchor_cells["client_id"].to_numpy())
        prices = np.zeros((len(clients), len(anchors)), np.int64)
        prices[
            np.searchsorted(clients, anchor_cells["client_id"].to_numpy()),
            np.searchsorted(anchors, anchor_cells["sku_id"].to_numpy()),
        ] = anchor_cells["price"].to_numpy()
        return cls(clients, prices)

    def rows(self, client_ids: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.clients, client_ids)


def clusters(anchors: Anchors) -> pl.DataFrame:
    """(client_id, cluster) for clients linked to at least one other."""
    matrix = anchors.prices
    if matrix.shape[1] < 2 * BAND or len(matrix) == 0:
        return pl.DataFrame(schema={"client_id": pl.Int64, "cluster": pl.Int64})
    band_keys = []
    for b in range(matrix.shape[1] // BAND):
        block = matrix[:, b * BAND : (b + 1) * BAND]
        order = np.argsort(block, axis=1, kind="stable").astype(np.int64)
        key = np.zeros(len(matrix), np.int64)
        for i in range(BAND):
            key = key * BAND + order[:, i]
        band_keys.append(np.where((block > 0).all(axis=1), key, -1))
    links = [
        pl.DataFrame(
            {
                "client_id": anchors.clients,
                "pair": i * len(band_keys) + j,
                "first": band_keys[i],
                "second": band_keys[j],
            }
        )
        for i in range(len(band_keys))
        for j in range(i + 1, len(band_keys))
    ]
    link = ["pair", "first", "second"]
    edges = pl.concat(links).filter((pl.col("first") >= 0) & (pl.col("second") >= 0))
    labels = pl.DataFrame({"client_id": anchors.clients, "cluster": anchors.clients})
    for _ in range(20):
        spread = (
            edges.join(labels, on="client_id")
            .with_columns(pl.col("cluster").min().over(link))
            .group_by("client_id")
            .agg(pl.col("cluster").min())
        )
        updated = (
            labels.join(spread, on="client_id", how="left", suffix="_new")
            .select("client_id", pl.min_horizontal("cluster", "cluster_new").alias("cluster"))
            .sort("client_id")
        )
        if updated.equals(labels):
            break
        labels = updated
    sizes = labels.group_by("cluster").len()
    return labels.join(sizes.filter(pl.col("len") > 1), on="cluster").select("client_id", "cluster")


def _best_bp(prices: np.ndarray, base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the percent (bp) reproducing the most anchor prices from the base, and how many."""
    with np.errstate(divide="ignore", invalid="ignore"):
        bp = np.rint(prices * 10_000 / base).astype(np.int64) - 10_000
    valid = (prices > 0) & (base > 0) & (bp > -10_000)
    valid &= with_markup(base, bp) == prices
    bp = np.where(valid, bp, np.iinfo(np.int64).min)
    # For each anchor's bp, how many anchors share it: the commonest valid one wins.
    agree = ((bp[:, :, None] == bp[:, None, :]) & valid[:, None, :]).sum(axis=2)
    agree = np.where(valid, agree, -1)
    best = agree.argmax(axis=1)
    rows = np.arange(len(prices))
    return bp[rows, best], np.maximum(agree[rows, best], 0)


def core_members(anchors: Anchors, membership: pl.DataFrame) -> pl.DataFrame:
    """(client_id, cluster): up to CORE_MEMBERS members sharing one exact anchor vector.

    Of a cluster's commonest anchor vectors, the one that reproduces the most members' anchor
    prices with a single percent wins (on a sample of members). Taking a marked-down vector
    as the base would leave the undiscounted clients a double rounding away from exact.
    """
    rows = anchors.rows(membership["client_id"].to_numpy())
    weights = np.random.default_rng(0).integers(1, 2**31, anchors.prices.shape[1])
    vectors = membership.with_columns(
        pl.Series("vector", (anchors.prices[rows] * weights).sum(axis=1)),
        pl.Series("row", rows),
    )
    candidates = (
        vectors.group_by("cluster", "vector")
        .agg(pl.len().alias("members"), pl.col("row").min().alias("example"))
        .sort("members", "vector", descending=[True, False])
        .group_by("cluster", maintain_order=True)
        .head(CANDIDATE_VECTORS)
    )
    sample = vectors.sort("client_id").group_by("cluster", maintain_order=True).head(FIT_SAMPLE)
    pairs = sample.select("cluster", "row").join(
        candidates.select("cluster", "vector", "example"), on="cluster"
    )
    _, fitted = _best_bp(
        anchors.prices[pairs["row"].to_numpy()], anchors.prices[pairs["example"].to_numpy()]
    )
    chosen = (
        pairs.with_columns(pl.Series("fitted", fitted))
        .group_by("cluster", "vector")
        .agg(pl.col("fitted").sum())
        .sort("fitted", "vector", descending=[True, False])
        .unique("cluster", keep="first")
    )
    return (
        vectors.join(chosen.select("cluster", "vector"), on=["cluster", "vector"])
        .sort("client_id")
        .group_by("cluster")
        .head(CORE_MEMBERS)
        .select("client_id", "cluster")
    )


def base_vectors(core_cells: pl.DataFrame, core: pl.DataFrame) -> pl.DataFrame:
    """core_cells (client_id, sku_id, price, currency) -> (cluster, sku_id, base, currency).

    The base price of a SKU is the one most core members agree on (the first member's when
    they all differ). Done on a dense (member x SKU) array, cluster by cluster in order:
    a hash aggregation over millions of core cells costs several hundred MB.
    """
    width = int(core_cells["sku_id"].max() or 0) + 1
    currency = (
        core_cells.group_by("client_id", "currency")
        .len()
        .join(core, on="client_id")
        .group_by("cluster", "currency")
        .agg(pl.col("len").sum())
        .sort("len", "currency", descending=[True, False])
        .unique("cluster", keep="first")
        .select("cluster", "currency")
    )
    members = core.sort("client_id").with_columns(
        pl.int_range(pl.len()).over("cluster").alias("slot")
    )
    clusters = members["cluster"].unique().sort().to_numpy()
    slots = int(members["slot"].max() or 0) + 1
    # Each core cell's place by binary search: no join over millions of cells.
    member_ids = members["client_id"].to_numpy()
    at = np.searchsorted(member_ids, core_cells["client_id"].to_numpy())
    prices = np.zeros((len(clusters), slots, width), np.int64)
    prices[
        np.searchsorted(clusters, members["cluster"].to_numpy()[at]),
        members["slot"].to_numpy()[at],
        core_cells["sku_id"].to_numpy(),
    ] = core_cells["price"].to_numpy()
    base = prices[:, 0, :].copy()
    votes = (prices == base[:, None, :]).sum(axis=1)
    for slot in range(1, slots):  # a price more members share than the first's wins
        candidate = prices[:, slot, :]
        count = (prices == candidate[:, None, :]).sum(axis=1)
        better = (candidate > 0) & ((count > votes) | (base == 0))
        base = np.where(better, candidate, base)
        votes = np.where(better, count, votes)
    cluster_index, sku = np.nonzero(base)
    return pl.DataFrame(
        {
            "cluster": clusters[cluster_index],
            "sku_id": sku.astype(np.int64),
            "base": base[cluster_index, sku],
        }
    ).join(currency, on="cluster")


def member_percents(
    anchors: Anchors, anchor_skus: np.ndarray, membership: pl.DataFrame, base: pl.DataFrame
) -> pl.DataFrame:
    """(client_id, cluster, bp): each member's percent on its cluster's base vector."""
    clusters = np.unique(membership["cluster"].to_numpy())
    at_anchors = base.filter(pl.col("sku_id").is_in(pl.Series(anchor_skus).implode()))
    base_prices = np.zeros((len(clusters), len(anchor_skus)), np.int64)
    base_prices[
        np.searchsorted(clusters, at_anchors["cluster"].to_numpy()),
        np.searchsorted(anchor_skus, at_anchors["sku_id"].to_numpy()),
    ] = at_anchors["base"].to_numpy()
    rows = anchors.rows(membership["client_id"].to_numpy())
    bp, fitted = _best_bp(
        anchors.prices[rows],
        base_prices[np.searchsorted(clusters, membership["cluster"].to_numpy())],
    )
    return (
        membership.with_columns(pl.Series("bp", bp), pl.Series("fitted", fitted))
        .filter(pl.col("fitted") > 0)
        .select("client_id", "cluster", "bp")
    )


class Fit:
    """Members and base vectors as sorted arrays, to check a batch of cells with NumPy.

    Memory is the base vectors' size (16 bytes an entry), not the matrix's, and a batch needs
    no join: each cell finds its member's cluster and base price by binary search.
    """

    def __init__(self, members: pl.DataFrame, base: pl.DataFrame) -> None:
        members = members.sort("client_id")
        self.client = members["client_id"].to_numpy()
        self.cluster = members["cluster"].to_numpy()
        self.bp = members["bp"].to_numpy()
        self.width = int(base["sku_id"].max() or 0) + 1
        base = base.with_columns((pl.col("cluster") * self.width + pl.col("sku_id")).alias("key"))
        base = base.sort("key")
        self.key = base["key"].to_numpy()
        self.base = base["base"].to_numpy()
        self.currency = base["currency"].to_numpy()
        self.sizes = dict(base.group_by("cluster").len().iter_rows())

    def check(self, cells: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(derived, covered) per cell: its list gives exactly its price; its list has the SKU."""
        client = cells["client_id"].to_numpy()
        sku = cells["sku_id"].to_numpy()
        at = np.minimum(np.searchsorted(self.client, client), max(len(self.client) - 1, 0))
        member = (self.client[at] == client) if len(self.client) else np.zeros(len(client), bool)
        key = self.cluster[at] * self.width + sku
        found = np.minimum(np.searchsorted(self.key, key), max(len(self.key) - 1, 0))
        covered = (
            member & (sku < self.width) & (self.key[found] == key)
            if len(self.key)
            else member & False
        )
        price = cells["price"].to_numpy()
        derived = (
            covered
            & (with_markup(self.base[found], self.bp[at]) == price)
            & (self.currency[found] == cells["currency"].to_numpy())
        )
        return derived, covered
