"""The flows of notifications: one module each, called by the routers, the consumer and the workers."""
