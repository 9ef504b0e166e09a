"""Event contracts, one module per publishing service. Importing this registers them all.
`stock_levels` is how readers of catalog's stock events total them (orders and analytics)."""

from shared.contracts import (  # noqa: F401
    accounts,
    analytics,
    catalog,
    notifications,
    orders,
    pricing,
)


def all_topics() -> set[str]:
    from shared.events.envelope import all_contracts

    return {contract.topic for contract in all_contracts().values()}
