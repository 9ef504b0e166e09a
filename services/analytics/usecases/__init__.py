"""Analytics' flows: each owns its transaction's work, calls the domain, the store and the
clients, and writes outbox events. Plain async functions a test calls with a session."""
