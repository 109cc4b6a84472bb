"""The kernel contract is written once, in ``kernel.Kernel``, and the kernel once, in ``_kernel_cy.py``: both forms
of that source (compiled and interpreted) must define the same functions with the same parameters, and every method
of the contract with the contract's parameter names (mypy checks the types, not the names of positional-only
parameters)."""

from __future__ import annotations

import inspect
from types import ModuleType

import pytest

from accesstoken2._wire import kernel as selector
from accesstoken2._wire.kernel import pure

# the kernel's own functions beyond the contract: the deflate audit (tests, benchmarks), the fault hook
# (tests/test_memory_safety.py) and the pool reset a forked child runs
BEYOND_CONTRACT = {"deflate_audit", "_arm_fault", "_forget_salts"}


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


def test_the_interpreted_form_is_the_contract_plus_its_own_functions() -> None:
    functions = own_functions(pure)  # type: ignore[arg-type]
    public = {name for name in functions if not name.startswith("_")} | (
        {"_arm_fault", "_forget_salts"} & set(functions)
    )
    assert public == set(contract()) | BEYOND_CONTRACT


def test_the_compiled_form_defines_what_the_interpreted_form_does(speedups: ModuleType) -> None:
    # one source, two forms: the same public functions, with the same parameters
    compiled = {name: value for name, value in own_functions(speedups).items() if not name.startswith("__")}
    interpreted = own_functions(pure)  # type: ignore[arg-type]
    public = set(contract()) | BEYOND_CONTRACT
    assert {name: compiled[name] for name in public} == {name: interpreted[name] for name in public}


@pytest.mark.parametrize("name", sorted(contract()))
def test_the_pure_kernel_keeps_the_contract(name: str) -> None:
    assert list(inspect.signature(getattr(pure, name)).parameters) == contract()[name]


def test_both_kernels_name_themselves() -> None:
    assert pure.IMPLEMENTATION == "python"
    assert set(selector.kernels()) <= {"python", "c"}
    for name, module in selector.kernels().items():
        assert module.IMPLEMENTATION == name
