"""Typed stub of the compiled kernel; the contract is ``accesstoken2._wire.kernel.Kernel``."""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .kernel import Build007Args, Parsed006, Parsed007, ServicesAt, ServicesRead, ServiceValues

IMPLEMENTATION: str

def hmac_sha256(key: bytes, msg: bytes, /) -> bytes: ...
def crc32(data: bytes, /) -> int: ...
def compress(data: bytes, /) -> bytes: ...
def build007(
    app_id: str, app_certificate: str, issue_ts: int, expire: int, salt: int, services: Sequence[ServiceValues], /
) -> str: ...
def build007_shape(
    shape: bytes,
    app_id: str,
    app_certificate: str,
    issue_ts: int | None,
    salt: int | None,
    lifetimes: tuple[Any, ...],
    values: tuple[Any, ...],
    /,
) -> str: ...
def random_salt() -> int: ...
def build_many(jobs: Iterable[Build007Args], threads: int, /) -> list[str]: ...
def parse007(token: str, /) -> Parsed007: ...
def services007(signing_info: bytes, where: ServicesAt, limit: int, /) -> ServicesRead: ...
def verify007(signature: bytes, signing_info: bytes, app_certificate: str, issue_ts: int, salt: int, /) -> bool: ...
def build006(
    app_id: str,
    app_certificate: str,
    channel_name: bytes,
    uid: bytes,
    salt: int,
    ts: int,
    privileges: Mapping[int, int],
    /,
) -> str: ...
def parse006(token: str, /) -> Parsed006: ...
def verify006(
    signature: bytes, app_id: bytes, app_certificate: bytes, channel_name: bytes, uid: bytes, message: bytes, /
) -> bool: ...
