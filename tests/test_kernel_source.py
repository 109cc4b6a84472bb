"""The kernel is one source, ``_wire/_kernel_cy.py``, in two forms: this reads that source and runs its interpreted
form without Cython, to hold the rules that make it one.

- Only the C boundary branches on ``cython.compiled``: the functions listed here, each of which reaches memory or
  the C core in compiled code and the standard library in plain Python.  A new branch elsewhere would be a second
  implementation of a rule; it has to be added here on purpose, with its reason.
- No other module of ``_wire`` branches on it.
- Without Cython installed (``_wire/_cython.py`` stands in), the interpreted form gives the tokens the active
  kernel gives.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from accesstoken2._wire import kernel as selector

WIRE = Path(selector.__file__).parent
SOURCE = WIRE / "_kernel_cy.py"
PACKAGE_ROOT = str(WIRE.parent.parent)

BOUNDARY = {
    # a buffer's bytes: an address in compiled code, the bytearray or bytes itself in plain Python
    "_buffer",
    "_grow",
    "_at",
    "_packed",
    "_bytes_at",
    "_slice",
    "_put_text",
    "_put_id",
    # the C core's work, or hmac, zlib and binascii
    "_seal007",
    "_decode007",
    "_base64",
    "_text_checked",
    "_seal006",
    "verify007",
    "verify006",
    "hmac_sha256",
    "crc32",
    "compress",
    "_unix_seconds",
    "build_many",
    # the C core's own hooks (compiled only)
    "deflate_audit",
    "_arm_fault",
    # a str's or int's representation read through the C API instead of Python methods
    "_id_chars",
    "_check_ids",
    "_common_text",
    "_exact_int",
}


def branches_on_compiled(node: ast.AST) -> bool:
    return any(
        isinstance(child, ast.Attribute)
        and child.attr == "compiled"
        and isinstance(child.value, ast.Name)
        and child.value.id == "cython"
        for child in ast.walk(node)
    )


def test_only_the_c_boundary_branches_on_compiled() -> None:
    tree = ast.parse(SOURCE.read_text("utf-8"))
    branching = {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and branches_on_compiled(node)}
    assert branching == BOUNDARY
    # no class branches, and at module level only the imports, the import-time checks and the name of the form
    assert not [node.name for node in tree.body if isinstance(node, ast.ClassDef) and branches_on_compiled(node)]
    statements = [node for node in tree.body if not isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    kinds = sorted(type(node).__name__ for node in statements if branches_on_compiled(node))
    assert kinds == ["Assign", "If", "If", "If"], kinds


def test_no_other_wire_module_branches_on_compiled() -> None:
    others = [
        path.name for path in WIRE.glob("*.py") if path != SOURCE and "cython.compiled" in path.read_text("utf-8")
    ]
    assert others == []


@pytest.mark.default_kernel
def test_the_interpreted_form_runs_without_cython(tmp_path: Path) -> None:
    # a cython module that is not there: the kernel source falls back to _wire/_cython.py
    (tmp_path / "cython.py").write_text("raise ModuleNotFoundError('hidden', name='cython')\n", encoding="ascii")
    args = ["970CA35de60c44645bbae8a215061b33", "5CFd2fd1755d40ecb72977518be15d3b", 1700000000, 600, 12345]
    services = [[5, {"1": 600}, ["user"]], [1, {"1": 600, "2": 300}, ["channel", "42"]]]
    script = (
        "import json, sys\n"
        "from accesstoken2._wire.kernel import pure\n"
        "from accesstoken2._wire import _cython as stand_in\n"
        "assert sys.modules['accesstoken2._wire._kernel_py'].cython is stand_in\n"
        "args, services = json.loads(sys.argv[1])\n"
        "services = [(t, {int(k): v for k, v in p.items()}, f) for t, p, f in services]\n"
        "token = pure.build007(*args, services)\n"
        "print(json.dumps([pure.IMPLEMENTATION, token, pure.parse007(token)[2], pure.random_salt() > 0]))\n"
    )
    environment = {key: value for key, value in os.environ.items() if key != "ACCESSTOKEN2_NO_EXTENSIONS"}
    environment["PYTHONPATH"] = os.pathsep.join([str(tmp_path), PACKAGE_ROOT])
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps([args, services])],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
    )
    implementation, token, app_id, salted = json.loads(done.stdout)
    expected = selector.active.build007(
        *args,
        [
            (kind, {int(key): value for key, value in privileges.items()}, fields)
            for kind, privileges, fields in services
        ],
    )
    assert (implementation, token, app_id, salted) == ("python", expected, args[0], True)
