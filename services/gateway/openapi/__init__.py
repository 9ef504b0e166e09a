"""The merged OpenAPI document the gateway serves and openapi/gateway.openapi.json holds."""
