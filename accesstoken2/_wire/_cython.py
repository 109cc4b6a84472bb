"""A stand-in for the ``cython`` module when Cython is not installed: the interpreted kernel runs with it.

:mod:`._kernel_cy` imports ``cython`` (Cython's own pure-Python shadow module when Cython is installed,
else this one).  Only what that module uses is here: ``compiled`` is False, the decorators hand back
what they decorate, ``declare`` hands back its value, and every C type name (read only by
``declare`` at run time) is ``object``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

compiled = False


def _same(thing: T) -> T:
    return thing


cfunc = ccall = inline = cclass = final = _same


def exceptval(*_args: Any, **_kwargs: Any) -> Callable[[T], T]:
    """``@cython.exceptval(...)``: an exception value matters only to compiled callers."""
    return _same


def freelist(_size: int) -> Callable[[T], T]:
    """``@cython.freelist(n)``: a compiled class's allocation cache."""
    return _same


def declare(_type: Any, value: Any = None) -> Any:
    """``cython.declare(type, value)``: the value, untyped."""
    return value


def __getattr__(name: str) -> Any:
    # C type names (cython.Py_ssize_t, cython.uint, ...) are evaluated only as declare()'s first argument
    if name.startswith("__"):
        raise AttributeError(name)
    return object
