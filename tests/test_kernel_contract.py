"""The kernel contract is written once, in ``kernel.Kernel``: the compiled module's stub (``_speedups.pyi``) and
both kernels are checked against it, function by function and parameter by parameter.  mypy checks the stub's
types, but not the names of positional-only parameters, and nothing else checks the stub against the .pyx."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from types import ModuleType

import pytest

from accesstoken2._wire import kernel as selector
from accesstoken2._wire import pure

STUB = Path(selector.__file__).with_name("_speedups.pyi")
# the compiled module's own functions beyond the contract: the deflate audit (tests, benchmarks), the fault hook
# (tests/test_memory_safety.py) and the pool reset a forked child runs
C_ONLY = {"deflate_audit", "_arm_fault", "_forget_salts"}


def stub_functions() -> dict[str, list[str]]:
    """name -> parameter names of every function the stub declares."""
    tree = ast.parse(STUB.read_text("utf-8"))
    return {
        node.name: [arg.arg for arg in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)]
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }


def contract() -> dict[str, list[str]]:
    """name -> parameter names (without self) of every method of the Protocol."""
    methods = {
        name: value
        for name, value in vars(selector.Kernel).items()
        if inspect.isfunction(value) and not name.startswith("_")
    }
    return {name: list(inspect.signature(method).parameters)[1:] for name, method in methods.items()}


def own_functions(module: ModuleType) -> dict[str, list[str]]:
    """name -> parameter names of the functions a module defines itself (not those it imports)."""
    found = {}
    for name in dir(module):
        value = getattr(module, name)
        if callable(value) and not isinstance(value, type) and getattr(value, "__module__", None) == module.__name__:
            found[name] = list(inspect.signature(value).parameters)
    return found


def test_the_stub_is_the_contract_plus_the_c_only_functions() -> None:
    stub = stub_functions()
    assert set(stub) == set(contract()) | C_ONLY
    for name, parameters in contract().items():
        assert stub[name] == parameters, name


def test_the_compiled_module_is_its_stub(speedups: ModuleType) -> None:
    # every function the .pyx defines is declared, with the same parameters, and nothing declared is missing
    assert own_functions(speedups) == stub_functions()


@pytest.mark.parametrize("name", sorted(contract()))
def test_the_pure_kernel_keeps_the_contract(name: str) -> None:
    assert list(inspect.signature(getattr(pure, name)).parameters) == contract()[name]


def test_both_kernels_name_themselves() -> None:
    assert pure.IMPLEMENTATION == "python"
    assert set(selector.kernels()) <= {"python", "c"}
    for name, module in selector.kernels().items():
        assert module.IMPLEMENTATION == name
