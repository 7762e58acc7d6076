"""The apps depend on each other one way only, as the design says.

community <- accounts, volunteers, peers, messaging <- matching <- api, dashboard.
Volunteers and peers know nothing of each other; messaging knows nothing of volunteers,
peers or sessions; nothing imports api or dashboard.
"""

import ast
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
APPS = ["community", "accounts", "messaging", "volunteers", "peers", "matching", "api", "dashboard"]
ALLOWED = {
    "community": set(),
    "messaging": {"community"},
    "accounts": {"community", "messaging"},
    "volunteers": {"community", "accounts"},
    "peers": {"community", "accounts"},
    "matching": {"community", "accounts", "messaging", "volunteers", "peers"},
    "api": {"community", "accounts", "messaging", "volunteers", "peers", "matching"},
    "dashboard": {"community", "accounts", "messaging", "volunteers", "peers", "matching"},
}


def imported_apps(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in APPS:
                yield top


@pytest.mark.parametrize("app", APPS)
def test_an_app_imports_only_what_lies_beneath_it(app):
    offending = {}
    for path in sorted((PROJECT / app).rglob("*.py")):
        wrong = {dep for dep in imported_apps(path) if dep != app and dep not in ALLOWED[app]}
        if wrong:
            offending[str(path.relative_to(PROJECT))] = sorted(wrong)
    assert offending == {}


def test_the_check_sees_imports():
    assert set(imported_apps(PROJECT / "matching" / "models.py")) >= {"peers", "volunteers"}
