"""What catalog asks other services now, over HTTP: price lists and client prices (pricing).
One module per service."""
