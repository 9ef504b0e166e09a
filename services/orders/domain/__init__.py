"""Business rules as plain Python."""
