"""Test kernel: real PostgreSQL and the real broker, started the way `make run` starts them."""
