"""Validate tokens while you rotate the app certificate: accept the primary and the secondary.

In Agora Console, enable a secondary certificate, then switch.  Meanwhile tokens signed with either
one are good, so check both; sign new tokens with the one you are moving to.

Run it:  AGORA_APP_ID=... AGORA_APP_CERTIFICATE=... ACCESSTOKEN2_SECONDARY_APP_CERTIFICATE=... \
         python examples/rotate_certificates.py
"""

import os

import accesstoken2
from accesstoken2 import Role_Publisher, RtcTokenBuilder

APP_ID = os.environ["AGORA_APP_ID"]
PRIMARY = os.environ["AGORA_APP_CERTIFICATE"]
SECONDARY = os.environ["ACCESSTOKEN2_SECONDARY_APP_CERTIFICATE"]

# A token from before the switch (signed with the primary) and one from after (the secondary).
old = RtcTokenBuilder.build_token_with_uid(APP_ID, PRIMARY, "room-1", 42, Role_Publisher, 3600)
new = RtcTokenBuilder.build_token_with_uid(APP_ID, SECONDARY, "room-1", 42, Role_Publisher, 3600)

for name, token in (("signed with the primary", old), ("signed with the secondary", new)):
    # validate() returns the parsed token when Agora would accept it for this channel and uid, now.
    accesstoken2.validate(token, [PRIMARY, SECONDARY], channel_name="room-1", uid=42)
    print(name, "-> accepted")

# Asked for another channel, it raises TokenRejectedError, whose .code is diagnose's code.
try:
    accesstoken2.validate(new, [PRIMARY, SECONDARY], channel_name="room-2", uid=42)
except accesstoken2.TokenRejectedError as rejected:
    print("for room-2 -> rejected:", rejected.code)
