"""Analytics' calls to other services, through the kernel's `Upstreams`."""
