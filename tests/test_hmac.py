"""The C core's own HMAC-SHA256 against hmac/hashlib and the ``cryptography`` package."""

from __future__ import annotations

import ctypes
import hashlib
import hmac
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import accesstoken2

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# lengths around the SHA-256 block (64) and the padding boundary (55/56) matter most
LENGTHS = [0, 1, 4, 31, 32, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 200, 1000]

# every test takes the ``speedups`` fixture: it runs once, on the compiled kernel (skipped without it)


def cryptography_hmac(key: bytes, message: bytes) -> bytes:
    mac = crypto_hmac.HMAC(key, hashes.SHA256())
    mac.update(message)
    return mac.finalize()


@SETTINGS
@given(key=st.one_of(st.binary(max_size=64), st.binary(min_size=65, max_size=300)), message=st.binary(max_size=600))
def test_hmac_matches_hashlib_and_cryptography(speedups: ModuleType, key: bytes, message: bytes) -> None:
    mac = speedups.hmac_sha256(key, message)
    assert mac == hmac.new(key, message, hashlib.sha256).digest()
    assert mac == cryptography_hmac(key, message)


@pytest.mark.parametrize("key_size", LENGTHS)
@pytest.mark.parametrize("message_size", LENGTHS)
def test_hmac_block_boundaries(speedups: ModuleType, key_size: int, message_size: int) -> None:
    key = bytes(index % 251 for index in range(key_size))
    message = (b"abcdefghijklmnopqrstuvwxyz" * 40)[:message_size]
    assert speedups.hmac_sha256(key, message) == hmac.digest(key, message, "sha256")


def test_hmac_long_message(speedups: ModuleType) -> None:
    key, message = os.urandom(100), os.urandom(1 << 20)
    assert speedups.hmac_sha256(key, message) == cryptography_hmac(key, message)


def accelerated(speedups: ModuleType) -> int:
    """at2_sha256_accelerated() of the loaded C core: 1 when it hashes with the CPU's SHA extensions."""
    # a C function of the extension, reached through ctypes: the module exposes no Python hook for it
    return int(ctypes.CDLL(speedups.__file__).at2_sha256_accelerated())


def cpu_has_sha_extensions() -> bool | None:
    """Whether /proc/cpuinfo lists sha_ni (None when there is no such file, as off Linux)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace").split()
    except OSError:
        return None
    return "sha_ni" in flags


def test_sha_extensions_are_used_where_the_cpu_has_them(speedups: ModuleType) -> None:
    if platform.machine().lower() not in ("x86_64", "amd64") or cpu_has_sha_extensions() is None:
        pytest.skip("the SHA extensions path exists on x86-64 only, and is checked against /proc/cpuinfo")
    if os.environ.get("ACCESSTOKEN2_PORTABLE_SHA256"):
        pytest.skip("ACCESSTOKEN2_PORTABLE_SHA256 is set for this whole run")
    assert accelerated(speedups) == int(bool(cpu_has_sha_extensions()))


def test_portable_code_path_agrees(speedups: ModuleType) -> None:
    """ACCESSTOKEN2_PORTABLE_SHA256 forces the portable compression function (the CPU may use SHA extensions)."""
    cases = [(os.urandom(k), os.urandom(m)) for k in LENGTHS for m in (0, 55, 56, 64, 65, 300)]
    script = (
        "import ctypes, json, sys\n"
        "from accesstoken2._wire import _kernel_cy\n"
        "cases = json.load(sys.stdin)\n"
        "macs = [_kernel_cy.hmac_sha256(bytes.fromhex(k), bytes.fromhex(m)).hex() for k, m in cases]\n"
        "print(json.dumps([ctypes.CDLL(_kernel_cy.__file__).at2_sha256_accelerated(), macs]))\n"
    )
    env = dict(os.environ, ACCESSTOKEN2_PORTABLE_SHA256="1", PYTHONPATH=str(Path(accesstoken2.__file__).parents[1]))
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps([(k.hex(), m.hex()) for k, m in cases]),
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    used_extensions, macs = json.loads(result.stdout)
    assert used_extensions == 0
    assert macs == [hmac.digest(k, m, "sha256").hex() for k, m in cases]
    assert macs == [cryptography_hmac(k, m).hex() for k, m in cases]
