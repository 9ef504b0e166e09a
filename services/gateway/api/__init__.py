"""HTTP side of the gateway: the proxy route and the merged docs."""
