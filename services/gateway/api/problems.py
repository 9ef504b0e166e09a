"""Problems only the edge raises; the rest come from shared.problems."""

from shared.problems import ProblemError


class PayloadTooLarge(ProblemError):
    status, slug = 413, "payload-too-large"


class TooManyRequests(ProblemError):
    status, slug = 429, "rate-limited"


class BadGateway(ProblemError):
    status, slug = 502, "bad-gateway"


class GatewayTimeout(ProblemError):
    status, slug = 504, "upstream-timeout"
