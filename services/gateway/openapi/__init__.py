"""The merged OpenAPI document of every service, as callers see it through the gateway."""
