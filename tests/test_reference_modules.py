"""accesstoken2.reference: every builder agoraiotools has, called through the module of the same name with the
same arguments, gives the same token string.

agoraiotools draws its salt from ``secrets.SystemRandom`` and its time from ``time.time``: both are patched in its
modules.  Ours are fixed through the keyword-only ``issue_ts``/``ts`` and ``salt`` every builder here takes (the
compiled kernel reads the clock and its salt pool in C, where no patch reaches).
"""

from __future__ import annotations

import importlib
import pkgutil
import types
import warnings
from typing import Any, NamedTuple

import pytest

import accesstoken2.reference as reference

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # its DynamicKey modules warn on import
    agoraiotools = pytest.importorskip("agoraiotools")

# the builders run on both kernels
pytestmark = pytest.mark.usefixtures("implementation")

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
NOW = 1_700_000_000
SALT = 12_345_678
LATER = NOW + 3600


# agoraiotools 0.3.4's RtcTokenBuilder2.build_token_with_uid_and_privilege raises AttributeError (it calls a method
# its base class lacks), so it is not compared: build_token_with_user_account_and_privilege is, with the same body.


class Case(NamedTuple):
    module: str
    call: str  # "Class.method" or "function"
    args: tuple[Any, ...]
    fixed: str  # how ours is given the time and salt: "007", "006" or "" (the arguments hold them)


CASES = [
    Case("RtcTokenBuilder2", "RtcTokenBuilder.build_token_with_uid", (APP_ID, CERT, "room", 42, 1, 3600, 600), "007"),
    Case("RtcTokenBuilder2", "RtcTokenBuilder.build_token_with_uid", (APP_ID, CERT, "room", 0, 2, 3600), "007"),
    Case(
        "RtcTokenBuilder2", "RtcTokenBuilder.build_token_with_user_account", (APP_ID, CERT, "room", "al", 1, 60), "007"
    ),
    Case(
        "RtcTokenBuilder2",
        "RtcTokenBuilder2.build_token_with_user_account_and_privilege",
        (APP_ID, CERT, "room", "al", 3600, 100, 200, 300, 400),
        "007",
    ),
    Case("RtcTokenBuilder2", "RtcTokenBuilder2.build_token_with_rtm", (APP_ID, CERT, "room", "al", 1, 3600, 0), "007"),
    Case(
        "RtcTokenBuilder2",
        "RtcTokenBuilder2.build_token_with_rtm2",
        (APP_ID, CERT, "room", 42, 1, 3600, 100, 200, 300, 400, "bob", 1800),
        "007",
    ),
    Case("RtmTokenBuilder2", "RtmTokenBuilder.build_token", (APP_ID, CERT, "bob", 3600), "007"),
    Case("RtmTokenBuilder2", "RtmTokenBuilder2.build_token", (APP_ID, CERT, "bob", 3600), "007"),
    Case("ChatTokenBuilder2", "ChatTokenBuilder.build_user_token", (APP_ID, CERT, "bob", 3600), "007"),
    Case("ChatTokenBuilder2", "ChatTokenBuilder2.build_app_token", (APP_ID, CERT, 3600), "007"),
    Case("fpa_token_builder", "FpaTokenBuilder.build_token", (APP_ID, CERT), "007"),
    *(
        Case(module, f"{name}.{method}", args, "007")
        for module, name in (
            ("apaas_token_builder", "ApaasTokenBuilder"),
            ("education_token_builder", "EducationTokenBuilder"),
        )
        for method, args in (
            ("build_room_user_token", (APP_ID, CERT, "room-uuid", "user-uuid", 1, 3600)),
            ("build_user_token", (APP_ID, CERT, "user-uuid", 3600)),
            ("build_app_token", (APP_ID, CERT, 3600)),
        )
    ),
    Case("RtcTokenBuilder", "RtcTokenBuilder.buildTokenWithUid", (APP_ID, CERT, "room", 42, 1, LATER), "006"),
    Case("RtcTokenBuilder", "RtcTokenBuilder.buildTokenWithUid", (APP_ID, CERT, "room", 0, 2, LATER), "006"),
    Case("RtcTokenBuilder", "RtcTokenBuilder.buildTokenWithAccount", (APP_ID, CERT, "room", "al", 1, LATER), "006"),
    Case("RtmTokenBuilder", "RtmTokenBuilder.buildToken", (APP_ID, CERT, "bob", 1, LATER), "006"),
    Case("DynamicKey", "generate", (APP_ID, CERT, "room", NOW, SALT), ""),
    Case("DynamicKey2", "generate", (APP_ID, CERT, "room", NOW, SALT, 42, LATER), ""),
    Case("DynamicKey3", "generate", (APP_ID, CERT, "room", NOW, SALT, 42, LATER), ""),
    *(
        Case(module, name, (APP_ID, CERT, "room", NOW, SALT, 42, LATER), "")
        for module in ("DynamicKey4", "DynamicKey5")
        for name in ("generatePublicSharingKey", "generateRecordingKey", "generateMediaChannelKey")
    ),
    Case("DynamicKey5", "generateInChannelPermissionKey", (APP_ID, CERT, "room", NOW, SALT, 42, LATER, b"3"), ""),
    Case("SignalingToken", "generateSignalingToken", ("bob", APP_ID, CERT, LATER), ""),
]


def _resolve(module: types.ModuleType, call: str) -> Any:
    target: Any = module
    for part in call.split("."):
        target = getattr(target, part)
    return target


class _FixedRandom:
    def randint(self, low: int, high: int) -> int:
        assert low <= SALT <= high
        return SALT


@pytest.fixture
def patched_agoraiotools(monkeypatch: pytest.MonkeyPatch) -> None:
    """agoraiotools' AccessToken modules draw the salt and read the clock through these module attributes."""
    fixed_secrets = types.SimpleNamespace(SystemRandom=_FixedRandom)
    fixed_time = types.SimpleNamespace(time=lambda: float(NOW))
    for name in ("AccessToken", "AccessToken2"):
        module = importlib.import_module(f"agoraiotools.{name}")
        monkeypatch.setattr(module, "secrets", fixed_secrets)
        monkeypatch.setattr(module, "time", fixed_time)


@pytest.mark.usefixtures("patched_agoraiotools")
@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.module}.{case.call}{case.args[2:4]}")
def test_the_same_call_gives_the_same_token(case: Case) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        theirs = _resolve(importlib.import_module(f"agoraiotools.{case.module}"), case.call)(*case.args)
    ours_module = importlib.import_module(f"accesstoken2.reference.{case.module}")
    fixed = {"007": {"issue_ts": NOW, "salt": SALT}, "006": {"ts": NOW + 24 * 3600, "salt": SALT}, "": {}}
    ours = _resolve(ours_module, case.call)(*case.args, **fixed[case.fixed])
    assert theirs and ours == theirs


@pytest.mark.usefixtures("patched_agoraiotools")
def test_the_token_classes_build_the_same_tokens() -> None:
    theirs_module = importlib.import_module("agoraiotools.AccessToken2")
    ours_module = importlib.import_module("accesstoken2.reference.AccessToken2")

    ours_token = ours_module.AccessToken(APP_ID, CERT, expire=600, salt=SALT, issue_ts=NOW)
    theirs_token = theirs_module.AccessToken(APP_ID, CERT, expire=600)
    for module, token in ((ours_module, ours_token), (theirs_module, theirs_token)):
        rtc = module.ServiceRtc("room", 42)
        rtc.add_privilege(module.ServiceRtc.kPrivilegeJoinChannel, 300)
        token.add_service(rtc)
        chat = module.ServiceChat("bob")
        chat.add_privilege(module.ServiceChat.kPrivilegeUser, 0)
        token.add_service(chat)
    assert ours_token.build() == theirs_token.build()

    from accesstoken2.reference.AccessToken import AccessToken as Ours006
    from accesstoken2.reference.AccessToken import kJoinChannel, kRtmLogin

    theirs006 = importlib.import_module("agoraiotools.AccessToken").AccessToken(APP_ID, CERT, "room", 42)
    ours006 = Ours006(APP_ID, CERT, "room", 42, ts=NOW + 24 * 3600, salt=SALT)
    for token in (theirs006, ours006):
        token.addPrivilege(kJoinChannel, LATER)
        token.addPrivilege(kRtmLogin, LATER)
    assert ours006.build() == theirs006.build()


def test_the_modules_have_agoraiotools_names() -> None:
    """Every module of agoraiotools, and every class, function and constant its modules show, has its namesake
    here; its byte-packing helpers (the modules Packer and utils, pack*/unPack* and ReadByteBuffer) aside."""
    helpers = {"Packer", "utils", "_version"}

    for info in pkgutil.iter_modules(agoraiotools.__path__):
        if info.name in helpers:
            continue
        ours = importlib.import_module(f"accesstoken2.reference.{info.name}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            theirs = importlib.import_module(f"agoraiotools.{info.name}")
        for name, value in vars(theirs).items():
            if name.startswith(("_", "pack", "unPack", "ReadByteBuffer")) or isinstance(value, types.ModuleType):
                continue
            if callable(value) and getattr(value, "__module__", "") != theirs.__name__:
                continue  # imported from elsewhere (a base class, a builtin), checked where it is defined
            if name in ("VERSION_LENGTH", "APP_ID_LENGTH") and info.name not in ("AccessToken", "AccessToken2"):
                continue  # the token modules' layout constants, which the builder modules only star-import
            assert hasattr(ours, name), f"accesstoken2.reference.{info.name} lacks {name}"
    for name in agoraiotools.__all__:
        if name != "__version__":
            assert hasattr(reference, name), name
    # as in agoraiotools, the top-level RtcTokenBuilder is the legacy 006 builder, RtcTokenBuilder2 the 007 one
    assert reference.RtcTokenBuilder.buildTokenWithUid.__module__ == "accesstoken2.legacy.builders"
    assert reference.RtcTokenBuilder2.build_token_with_uid.__module__ == "accesstoken2.builders"


@pytest.mark.parametrize(
    "module",
    [
        "RtcTokenBuilder2",
        "RtmTokenBuilder2",
        "ChatTokenBuilder2",
        "FpaTokenBuilder2",
        "ApaasTokenBuilder",
        "EducationTokenBuilder",
        "AccessToken2",
        "RtcTokenBuilder",
        "RtmTokenBuilder",
        "AccessToken",
        "convoai_token_builder",
        "stt_token_builder",
    ],
)
def test_the_reference_file_names_import(module: str) -> None:
    imported = importlib.import_module(f"accesstoken2.reference.{module}")
    assert imported.__all__ and all(hasattr(imported, name) for name in imported.__all__)
