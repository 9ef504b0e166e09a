"""The catalog's flows, one module each: routers, consumers and workers call them."""
