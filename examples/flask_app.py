"""A Flask app that hands an RTC token to each logged-in user, for that user only.

Run it:  AGORA_APP_ID=... AGORA_APP_CERTIFICATE=... flask --app examples/flask_app.py run
Then:    POST /login with form field "user", and GET /rtc-token/<channel> with the session cookie.
The login here is a stand-in (no password): use your real one (Flask-Login, your SSO, ...).
"""

import os
import secrets

from flask import Flask, abort, jsonify, request, session

from accesstoken2 import Role_Publisher, RtcTokenBuilder

APP_ID = os.environ["AGORA_APP_ID"]
APP_CERTIFICATE = os.environ["AGORA_APP_CERTIFICATE"]  # server side only: never send it to a browser
TOKEN_LIFETIME = 3600  # seconds from now; Agora accepts at most 24 hours

app = Flask(__name__)
app.secret_key = os.environ.get("FLASK_SECRET_KEY") or secrets.token_hex(32)  # signs the session cookie


@app.post("/login")
def login():
    session["user"] = request.form["user"]  # stand-in: trust the name, check a password in real life
    return jsonify(user=session["user"])


@app.get("/rtc-token/<channel>")
def rtc_token(channel: str):
    user = session.get("user")
    if user is None:
        abort(401)
    # The token names the user's own account: it cannot be used to join as anyone else.
    token = RtcTokenBuilder.build_token_with_user_account(
        APP_ID, APP_CERTIFICATE, channel, user, Role_Publisher, TOKEN_LIFETIME
    )
    return jsonify(rtcToken=token, account=user, expires_in=TOKEN_LIFETIME)


if __name__ == "__main__":
    app.run(port=int(os.environ.get("PORT", "5000")))
