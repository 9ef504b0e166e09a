"""The orders service's flows: one module per flow, called by the routers, the consumers and
the workers. Each owns its transaction and calls domain, store and clients."""
