"""Business rules of accounts as plain Python: secrets, the client card, credit standing."""
