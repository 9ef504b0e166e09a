"""Persistence: tables and the repositories that query them."""
