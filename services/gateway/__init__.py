"""Gateway: the one door. Routes /api/<service>/... to the services, authenticates people (JWT)
and integrators/partners (API keys), applies edge role rules, rate limits and body limits, and
serves the merged OpenAPI. It owns no data, so it has no store/, events.py or migrations/."""
