"""Imports point one way, down: ``accesstoken2._wire`` (everything that knows bytes) imports nothing from the
package above it but ``accesstoken2.errors``, the ground floor, which imports nothing of the package."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "accesstoken2"
WIRE = PACKAGE / "_wire"
# the .pyx's Python-level imports (its cimports name C headers and Cython's own modules)
PYX_IMPORT = re.compile(r"^(?:from\s+(\S+)\s+import|import\s+(\S+))", re.MULTILINE)


def package_imports(path: Path) -> set[str]:
    """The accesstoken2 modules a file imports, as absolute names."""
    here = ["accesstoken2", *path.relative_to(PACKAGE).with_suffix("").parts]
    if path.suffix == ".pyx":
        names = {first or second for first, second in PYX_IMPORT.findall(path.read_text())}
        return {name for name in names if name.startswith("accesstoken2")}
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level]
                module = ".".join([*base, *([node.module] if node.module else [])])
                found.update([module] if node.module else [f"{module}.{alias.name}" for alias in node.names])
            elif node.module and node.module.startswith("accesstoken2"):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("accesstoken2"))
    return found


@pytest.mark.parametrize("path", sorted([*WIRE.glob("*.py"), *WIRE.glob("*.pyx")]), ids=lambda path: path.name)
def test_wire_imports_only_itself_and_errors(path: Path) -> None:
    above = {name for name in package_imports(path) if not name.startswith("accesstoken2._wire")}
    assert above <= {"accesstoken2.errors"}, f"{path.name} imports from above _wire: {sorted(above)}"


def test_errors_import_nothing_of_the_package() -> None:
    assert package_imports(PACKAGE / "errors.py") == set()


def test_the_reader_sees_relative_imports() -> None:
    # the check above would pass on a file it cannot read: it must see what kernel.py imports
    assert {"accesstoken2._wire.values"} <= package_imports(WIRE / "kernel.py")
    assert {"accesstoken2._wire.checks", "accesstoken2.errors"} <= package_imports(WIRE / "_kernel_cy.py")
