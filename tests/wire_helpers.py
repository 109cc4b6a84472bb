"""Helpers for tests that need tokens the builders never make (services of types outside the table)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from accesstoken2._wire import kernel
from accesstoken2._wire.specs import SPECS, FieldSpec, ServiceSpec, add_spec, remove_spec
from accesstoken2.services import Service


@contextmanager
def extra_spec(spec: ServiceSpec) -> Iterator[ServiceSpec]:
    """A row added to the service table for the duration of the block (both kernels read it)."""
    previous = SPECS.get(spec.type)
    add_spec(spec)
    try:
        yield spec
    finally:
        remove_spec(spec.type)
        if previous is not None:
            add_spec(previous)


def unknown_service_token(
    app_id: str, certificate: str, known: Service, unknown: int, issue_ts: int, *, tail: str = ""
) -> str:
    """A token holding ``known`` and then a service of type ``unknown`` (a text field ``tail`` after its map).

    The type is in the table only while the token is built, so parsing the token finds it unknown.
    """
    assert unknown not in SPECS
    with extra_spec(ServiceSpec(unknown, "Synthetic", (FieldSpec("tail", "s"),), None)):
        return kernel.active.build007(app_id, certificate, issue_ts, 600, 1, [known._wire(), (unknown, {}, (tail,))])
