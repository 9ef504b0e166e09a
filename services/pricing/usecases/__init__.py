"""The pricing flows, one module each."""
