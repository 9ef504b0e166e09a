"""Demo data: a season of a small distributor, played into a stack through its gateway."""
