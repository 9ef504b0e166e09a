"""The price book: what resolution reads, cached per process, and resolution over it."""
