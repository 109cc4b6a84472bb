"""accesstoken2.agora_name_problems (Agora's identifier rules) and token_fingerprint (the audit log's id)."""

from __future__ import annotations

import hashlib

import pytest

import accesstoken2
from accesstoken2 import ParameterTypeError, agora_name_problems, token_fingerprint

ALLOWED_SPECIALS = " !#$%&()+-:;<=.>?@[]^_{}|~,"


def codes(kind: str, value: str) -> list[str]:
    return [problem.code for problem in agora_name_problems(kind, value)]


@pytest.mark.parametrize("kind", ["channel_name", "user_account"])
def test_the_89_characters_pass(kind: str) -> None:
    import string

    allowed = string.ascii_letters + string.digits + ALLOWED_SPECIALS
    assert len(set(allowed)) == 89
    assert codes(kind, allowed[:60]) == []
    for character in allowed:
        assert codes(kind, character) == [], character


@pytest.mark.parametrize("kind", ["channel_name", "user_account"])
@pytest.mark.parametrize("character", ["\x00", "\x1b", "\n", "'", '"', "*", "/", "\\", "`", "é", "\U0001f600"])
def test_characters_outside_the_set(kind: str, character: str) -> None:
    assert codes(kind, "ab" + character) == ["name-character"]
    (problem,) = agora_name_problems(kind, "ab" + character)
    assert f"U+{ord(character):04X}" in problem.message and "character 2" in problem.message


@pytest.mark.parametrize(("kind", "longest"), [("channel_name", 64), ("user_account", 255)])
def test_byte_lengths(kind: str, longest: int) -> None:
    assert codes(kind, "a" * longest) == []
    assert codes(kind, "a" * (longest + 1)) == ["name-too-long"]
    assert codes(kind, "a" * 60_000) == ["name-too-long"]
    assert codes(kind, "") == ["name-empty"]
    # bytes, not characters: 33 two-byte characters are 66 bytes
    assert codes(kind, "é" * (longest // 2 + 1)) == ["name-too-long", "name-character"]


def test_rtm_user_id() -> None:
    assert codes("rtm_user_id", "user'*/\\`\"~ 1") == []
    assert codes("rtm_user_id", "u" * 64) == []
    assert codes("rtm_user_id", "u" * 65) == ["name-too-long"]
    assert codes("rtm_user_id", "") == ["name-empty"]
    assert codes("rtm_user_id", "é") == ["name-character"]
    assert codes("rtm_user_id", "a\x00") == ["name-character"]


def test_messages_never_repeat_the_value() -> None:
    secret = "5CFd2fd1755d40ecb72977518be15d3b"
    for kind in ("channel_name", "user_account", "rtm_user_id"):
        for value in (secret * 10 + "\x00", secret.upper() * 3 + "é"):
            for problem in agora_name_problems(kind, value):
                assert secret.lower() not in problem.message.lower()
                assert problem.to_dict()["kind"] == kind


def test_bad_arguments_are_typed_errors() -> None:
    with pytest.raises(ParameterTypeError) as caught:
        agora_name_problems("channel", "x")
    assert caught.value.parameter == "kind"
    with pytest.raises(ParameterTypeError) as caught:
        agora_name_problems("channel_name", b"x")  # type: ignore[arg-type]
    assert caught.value.parameter == "channel_name"


def test_fingerprint() -> None:
    token = "007eJxTYBA" + "x" * 40
    expected = hashlib.sha256(token.encode()).hexdigest()[:16]
    assert token_fingerprint(token) == expected
    assert token_fingerprint(f"  {token}\n") == expected
    assert token_fingerprint(token + "y") != expected
    with pytest.raises(ParameterTypeError):
        token_fingerprint(b"007")  # type: ignore[arg-type]
    assert "token_fingerprint" in dir(accesstoken2) and "agora_name_problems" in accesstoken2.__all__
