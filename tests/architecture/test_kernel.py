"""The kernel (`shared/`) knows no service. import-linter sees `import services...`; this sees
what it cannot: a service module named in a string (`importlib.import_module(f"services.{name}
.app")`, `"services.orders.app:create_app"`), which is how the tooling reaches every service.
That code lives in `b2b/`."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Still naming services from inside the kernel, each for a reason of its own:
LEFT = {
    # the test harness starts the service a test names (start_app("orders", ...))
    "shared/testing/fixtures.py",
}


def service_modules_named(source: str) -> list[str]:
    """Line numbers and text of the strings that name a module of the `services` package."""
    # ast.walk reaches the text pieces of an f-string too: f"services.{name}.app" is seen.
    return sorted(
        f"{node.lineno}: {node.value}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith("services.")
    )


def test_the_kernel_names_no_service_module():
    named = {
        str(path.relative_to(ROOT)): hits
        for path in sorted((ROOT / "shared").rglob("*.py"))
        if str(path.relative_to(ROOT)) not in LEFT
        and (hits := service_modules_named(path.read_text()))
    }
    assert named == {}


def test_the_check_sees_a_service_named_however_it_is_written():
    source = (
        "import importlib\n"
        "def load(name):\n"
        "    importlib.import_module(f'services.{name}.app')\n"
        "    return ['uvicorn', 'services.orders.app:create_app']\n"
        "DOC = 'services talk over HTTP'\n"
    )
    assert service_modules_named(source) == [
        "3: services.",
        "4: services.orders.app:create_app",
    ]


def test_what_is_left_still_exists():
    """An entry of LEFT whose file moved or stopped naming services must go."""
    for name in LEFT:
        assert service_modules_named((ROOT / name).read_text()), name
