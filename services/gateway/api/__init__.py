"""HTTP side of the gateway: the proxy, its own docs, health and metrics."""
