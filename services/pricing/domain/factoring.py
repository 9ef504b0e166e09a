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

import numpy as np
import polars as pl

from services.pricing.domain.batch import with_markup

BAND = 8
BANDS = 6
ANCHORS = BAND * BANDS
CORE_MEMBERS = 3
CANDIDATE_VECTORS = 6


def choose_anchors(sku_ids: np.ndarray) -> np.ndarray:
    """Evenly spread SKUs from those the feed's cells use."""
    ids = np.unique(sku_ids)
    if len(ids) <= ANCHORS:
        return ids
    return ids[np.linspace(0, len(ids) - 1, ANCHORS).astype(np.int64)]


def clusters(anchor_cells: pl.DataFrame, anchors: np.ndarray) -> pl.DataFrame:
    """anchor_cells (client_id, sku_id, price) -> (client_id, cluster) for linked clients."""
    if len(anchors) < 2 * BAND or anchor_cells.height == 0:
        return pl.DataFrame(schema={"client_id": pl.Int64, "cluster": pl.Int64})
    position = pl.DataFrame({"sku_id": anchors, "pos": np.arange(len(anchors))})
    cells = anchor_cells.join(position, on="sku_id")
    clients = cells["client_id"].unique().sort()
    matrix = np.zeros((len(clients), len(anchors)), np.int64)
    row = np.searchsorted(clients.to_numpy(), cells["client_id"].to_numpy())
    matrix[row, cells["pos"].to_numpy()] = cells["price"].to_numpy()

    band_keys = []
    for b in range(len(anchors) // BAND):
        block = matrix[:, b * BAND : (b + 1) * BAND]
        order = np.argsort(block, axis=1, kind="stable").astype(np.int64)
        key = np.zeros(len(clients), np.int64)
        for i in range(BAND):
            key = key * BAND + order[:, i]
        complete = (block > 0).all(axis=1)
        band_keys.append(np.where(complete, key, -1 - np.arange(len(clients))))
    links = []
    for i in range(len(band_keys)):
        for j in range(i + 1, len(band_keys)):
            links.append(
                pl.DataFrame(
                    {
                        "client_id": clients,
                        "link": pl.Series(band_keys[i] * 40_320 + band_keys[j]).cast(pl.Utf8)
                        + f"/{i}/{j}",
                    }
                )
            )
    edges = pl.concat(links).filter(~pl.col("link").str.starts_with("-"))
    labels = pl.DataFrame({"client_id": clients, "cluster": clients})
    for _ in range(20):
        spread = (
            edges.join(labels, on="client_id")
            .with_columns(pl.col("cluster").min().over("link"))
            .group_by("client_id")
            .agg(pl.col("cluster").min())
        )
        updated = labels.join(spread, on="client_id", how="left", suffix="_new").select(
            "client_id", pl.min_horizontal("cluster", "cluster_new").alias("cluster")
        )
        if updated.equals(labels.sort("client_id").select(updated.columns)):
            break
        labels = updated.sort("client_id")
    sizes = labels.group_by("cluster").len()
    return labels.join(sizes.filter(pl.col("len") > 1), on="cluster").select("client_id", "cluster")


def core_members(anchor_cells: pl.DataFrame, membership: pl.DataFrame) -> pl.DataFrame:
    """(client_id, cluster): up to CORE_MEMBERS members sharing one exact anchor vector.

    Of a cluster's commonest anchor vectors, the one that reproduces the most members' anchor
    prices with a single percent wins. Taking a marked-down vector as the base would make the
    undiscounted clients' prices a double rounding away from exact, and so exceptions.
    """
    cells = anchor_cells.join(membership, on="client_id")
    vectors = (
        cells.sort("sku_id")
        .group_by("client_id", "cluster")
        .agg(pl.col("price").hash().sum().alias("vector"))
    )
    candidates = (
        vectors.group_by("cluster", "vector")
        .agg(pl.len().alias("members"), pl.col("client_id").min().alias("example"))
        .sort("members", "vector", descending=[True, False])
        .group_by("cluster", maintain_order=True)
        .head(CANDIDATE_VECTORS)
    )
    bases = candidates.join(
        anchor_cells.rename({"client_id": "example", "price": "base"}), on="example"
    ).select("cluster", "vector", "sku_id", "base")
    fits = (
        cells.join(bases, on=["cluster", "sku_id"])
        .with_columns(_ratio_bp())
        .filter(with_markup(pl.col("base"), pl.col("bp")) == pl.col("price"))
        .group_by("cluster", "vector", "client_id", "bp")
        .len()
        .group_by("cluster", "vector", "client_id")
        .agg(pl.col("len").max())
        .group_by("cluster", "vector")
        .agg(pl.col("len").sum().alias("fitted"))
        .sort("fitted", "vector", descending=[True, False])
        .unique("cluster", keep="first")
    )
    return (
        vectors.join(fits.select("cluster", "vector"), on=["cluster", "vector"])
        .sort("client_id")
        .group_by("cluster")
        .head(CORE_MEMBERS)
        .select("client_id", "cluster")
    )


def _ratio_bp() -> pl.Expr:
    """The percent (basis points) from base to price, rounded: a candidate to verify."""
    return ((pl.col("price") * 10_000 / pl.col("base")).round(0).cast(pl.Int64) - 10_000).alias(
        "bp"
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
    anchor_cells: pl.DataFrame, membership: pl.DataFrame, base: pl.DataFrame
) -> pl.DataFrame:
    """(client_id, cluster, bp): each member's commonest ratio to the base that reproduces
    its anchor price exactly."""
    ratios = (
        anchor_cells.join(membership, on="client_id")
        .join(base, on=["cluster", "sku_id"])
        .with_columns(_ratio_bp())
        .filter(pl.col("bp") > -10_000)
        .filter(with_markup(pl.col("base"), pl.col("bp")) == pl.col("price"))
    )
    return (
        ratios.group_by("client_id", "cluster", "bp")
        .len()
        .sort("len", "bp", descending=[True, False])
        .unique("client_id", keep="first")
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
