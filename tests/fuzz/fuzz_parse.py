"""Coverage-guided fuzzing of the token parsers with atheris (run by hand; see README.md here).

Each input is turned into a token in one of four ways, so that libFuzzer can reach every layer:
the raw text, a zlib stream wrapped in base64, decompressed content that gets compressed and
wrapped, and the same content behind a valid signature header.  Every parser must either
return or raise :class:`MalformedTokenError`; anything else is a crash that libFuzzer saves.
``diagnose()`` must never raise at all.  The kernel is the one ``accesstoken2._wire.kernel.active``
selects: set ``ACCESSTOKEN2_NO_EXTENSIONS=1`` to fuzz the pure-Python one.
"""

from __future__ import annotations

import base64
import os
import sys
import zlib

import atheris

with atheris.instrument_imports():
    from accesstoken2 import AccessToken2, MalformedTokenError, diagnose, inspect
    from accesstoken2._wire import kernel as _kernel

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"


def _token(data: bytes) -> str:
    provider = atheris.FuzzedDataProvider(data)
    mode = provider.ConsumeIntInRange(0, 3)
    if mode == 0:
        return str(provider.ConsumeUnicodeNoSurrogates(len(data)))
    rest = provider.ConsumeBytes(len(data))
    if mode == 1:
        return "007" + base64.b64encode(rest).decode("ascii")
    if mode == 2:
        return "007" + base64.b64encode(zlib.compress(rest)).decode("ascii")
    return "006" + APP_ID + base64.b64encode(rest).decode("ascii")


def test_one_input(data: bytes) -> None:
    token = _token(data)
    for parse in (_kernel.active.parse007, AccessToken2.parse, inspect):
        try:
            parse(token)
        except MalformedTokenError as error:
            if not str(error):
                raise AssertionError("MalformedTokenError without a message") from None
    findings = diagnose(token, app_certificate=CERT, app_id=APP_ID, channel_name="room", uid=42, now=1_700_000_000)
    if not findings:
        raise AssertionError("diagnose() returned no finding")


def make_corpus(directory: str) -> None:
    """Write seed inputs (valid tokens in each input mode) to ``directory``.

    The provider reads the mode from the last byte, and the rest from the front.
    """
    from accesstoken2 import ApaasTokenBuilder, RtcTokenBuilder, RtmTokenBuilder
    from accesstoken2.legacy import RtcTokenBuilder as RtcTokenBuilder006

    os.makedirs(directory, exist_ok=True)
    tokens = [
        RtcTokenBuilder.build_token_with_rtm(APP_ID, CERT, "room", 42, 1, 600, issue_ts=1, salt=1),
        ApaasTokenBuilder.build_room_user_token(APP_ID, CERT, "room", "user", 1, 600, issue_ts=1, salt=1),
        RtmTokenBuilder.build_token(APP_ID, CERT, "user", 600, issue_ts=1, salt=1),
    ]
    seeds = []
    for token in tokens:
        raw = base64.b64decode(token[3:])
        seeds += [raw + b"\x01", zlib.decompress(raw) + b"\x02"]
    legacy = RtcTokenBuilder006.buildTokenWithUid(APP_ID, CERT, "room", 42, 1, 0, ts=1, salt=1)
    seeds.append(base64.b64decode(legacy[35:]) + b"\x03")
    for index, seed in enumerate(seeds):
        with open(os.path.join(directory, f"seed-{index}"), "wb") as handle:
            handle.write(seed)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--make-corpus":
        make_corpus(sys.argv[2])
        return
    print(f"fuzzing the {_kernel.IMPLEMENTATION} kernel", file=sys.stderr)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
