"""The apps depend one way: contact on pages (offices, the page cache), both on clinic_site.

``pages`` never imports from ``contact`` nor names its URLs (its templates may load the
``consultation`` tag library contact offers); ``clinic_site`` names neither app outside
the project's wiring (settings.py, urls.py): it assembles what the apps register.
"""

import ast
import re
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
WIRING = {"clinic_site/settings.py", "clinic_site/urls.py"}


def imported_apps(path: Path) -> set[str]:
    """The top-level packages a module imports (relative imports: its own app)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def modules(app: str):
    for path in sorted((BASE_DIR / app).rglob("*.py")):
        relative = path.relative_to(BASE_DIR).as_posix()
        if "/migrations/" not in relative and relative not in WIRING:
            yield relative, path


@pytest.mark.parametrize(
    ("app", "forbidden"), [("pages", {"contact"}), ("clinic_site", {"pages", "contact"})]
)
def test_no_module_imports_an_app_it_must_not_know(app, forbidden):
    found = {name: imported_apps(path) & forbidden for name, path in modules(app)}
    assert {name: apps for name, apps in found.items() if apps} == {}


def test_pages_never_names_a_contact_url():
    named = re.compile(r"""["']contact:""")
    paths = [path for _name, path in modules("pages")]
    paths += sorted((BASE_DIR / "templates" / "pages").rglob("*.html"))
    paths += sorted((BASE_DIR / "templates" / "includes").rglob("*.html"))
    assert [
        path.relative_to(BASE_DIR).as_posix()
        for path in paths
        if named.search(path.read_text(encoding="utf-8"))
    ] == []
