"""Edge rules as plain Python: which paths are public, what keys may call, rate limits."""
