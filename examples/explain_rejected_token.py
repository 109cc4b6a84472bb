"""Why did Agora reject this token?  diagnose() says, given what the client used.

Run it:  AGORA_APP_ID=... AGORA_APP_CERTIFICATE=... python examples/explain_rejected_token.py
"""

import os

from accesstoken2 import Role_Subscriber, RtcTokenBuilder, diagnose

APP_ID = os.environ["AGORA_APP_ID"]
APP_CERTIFICATE = os.environ["AGORA_APP_CERTIFICATE"]

# The server built a subscriber token for channel "lobby" and uid 42, valid 10 minutes, an hour ago...
an_hour_ago = 1_700_000_000
token = RtcTokenBuilder.build_token_with_uid(
    APP_ID, APP_CERTIFICATE, "lobby", 42, Role_Subscriber, 600, issue_ts=an_hour_ago
)

# ...and the client joined channel "Lobby" as uid 43, now.  The SDK only says "invalid token".
findings = diagnose(token, app_certificate=APP_CERTIFICATE, channel_name="Lobby", uid=43, now=an_hour_ago + 3600)
for finding in findings:
    # severity: error / warning / info; code: stable, for your own handling; message: for people
    print(f"{finding.severity:8} {finding.code:28} {finding.message}")

# Errors come first: expired, channel-mismatch and uid-mismatch here.
errors = {finding.code for finding in findings if finding.severity == "error"}
print("rejected because:", ", ".join(sorted(errors)))
