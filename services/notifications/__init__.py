"""Notifications service: Rules that turn events into messages; templates; email, signed webhooks and in-app inbox; preferences; delivery log."""
