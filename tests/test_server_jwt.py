"""Per-user authorization: JWT mode (HS256 secret file, RS256 and ES256 public key files) and the
ACCESSTOKEN2_AUTHORIZER hook, in process."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import io
import json
import logging
import logging.config
import os
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

pytest.importorskip("fastapi")
jwt = pytest.importorskip("jwt")
httpx = pytest.importorskip("httpx")
pytest.importorskip("cryptography")

from asgi_clients import Client  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402

from accesstoken2 import AccessToken2, ServiceRtc, ServiceRtm  # noqa: E402
from accesstoken2.server import ConfigurationError, Settings, serve  # noqa: E402

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
SECRET = "jwt-secret-for-tests-0123456789abcdef"
ADMIN_KEY = "jwt-admin-key-0123456789"
USER_KEY = "jwt-user-key-0123456789"


@pytest.fixture(scope="module")
def keys() -> dict[str, Any]:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())

    def public(key: Any) -> str:
        data: bytes = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return data.decode()

    return {"RS256": (rsa_key, public(rsa_key)), "ES256": (ec_key, public(ec_key))}


@pytest.fixture
def make_client() -> Iterator[Callable[..., Client]]:
    clients: list[Client] = []

    def make(**overrides: Any) -> Client:
        values: dict[str, Any] = {"app_id": APP_ID, "app_certificate": CERT, "jwt_secret": SECRET}
        values.update(overrides)
        client = Client(Settings(**values))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def token_for(sub: Any = "alice", key: Any = SECRET, algorithm: str = "HS256", **claims: Any) -> str:
    payload = {"sub": sub, "exp": int(time.time()) + 600, **claims}
    payload = {name: value for name, value in payload.items() if value is not None}
    encoded: str = jwt.encode(payload, key, algorithm=algorithm)
    return encoded


def detail(response: Any) -> str:
    body = response.json()
    # every error body: the detail, and one human-readable message beside it
    assert set(body) - {"problems"} == {"detail", "message"} and isinstance(body["message"], str)
    return str(body["detail"])


def rtc_body(uid: Any, channel: str = "room") -> dict[str, Any]:
    return {"tokenType": "rtc", "channel": channel, "uid": uid, "role": "publisher"}


# ---------------------------------------------------------------- 401: the JWT itself


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_signed_with(key: bytes, claims: dict[str, Any]) -> str:
    """A JWT signed HS256 with ``key`` (PyJWT refuses to use a public key as an HMAC secret)."""
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + _b64(json.dumps(claims).encode())
    return head + "." + _b64(hmac.new(key, head.encode(), hashlib.sha256).digest())


def unsigned(claims: dict[str, Any]) -> str:
    encoded: str = jwt.encode(claims, None, algorithm="none")
    return encoded


@pytest.mark.parametrize(
    ("make_bearer", "phrase"),
    [
        (lambda: None, "missing"),
        (lambda: token_for(exp=int(time.time()) - 60), "expired"),
        (lambda: token_for(key="another-secret-of-32-bytes-or-more!!"), "signature does not verify"),
        (lambda: unsigned({"sub": "alice", "exp": int(time.time()) + 600}), "not signed with HS256"),
        (lambda: token_for(nbf=int(time.time()) + 600), "not valid yet"),
        (lambda: token_for(exp=None), "no 'exp' claim"),
        (lambda: token_for(sub=None), "no 'sub' claim"),
        (lambda: token_for(sub=""), "'sub' claim must be"),
        (lambda: token_for(channels="room"), "'channels' claim"),
        (lambda: "not.a.jwt", "invalid API key or JWT"),
    ],
)
def test_bad_jwts_are_401(make_client: Callable[..., Client], make_bearer: Callable[[], Any], phrase: str) -> None:
    client = make_client()
    bearer = make_bearer()
    response = client.request("POST", "/getToken", bearer=bearer, json=rtc_body("alice"))
    assert response.status_code == 401
    assert phrase in detail(response)
    assert response.headers["www-authenticate"].startswith("Bearer")
    if bearer:
        assert bearer not in response.text


@pytest.mark.default_kernel
def test_audience_and_issuer(make_client: Callable[..., Client]) -> None:
    client = make_client(jwt_audience="tokens", jwt_issuer="https://id.example")
    good = token_for(aud="tokens", iss="https://id.example")
    assert client.request("POST", "/getToken", bearer=good, json=rtc_body("alice")).status_code == 200
    for bearer, phrase in (
        (token_for(aud="other", iss="https://id.example"), "another audience"),
        (token_for(aud="tokens", iss="https://evil.example"), "another issuer"),
        (token_for(iss="https://id.example"), "no 'aud' claim"),
        (token_for(aud="tokens"), "no 'iss' claim"),
    ):
        response = client.request("POST", "/getToken", bearer=bearer, json=rtc_body("alice"))
        assert response.status_code == 401 and phrase in detail(response)


@pytest.mark.default_kernel
def test_public_key_modes(make_client: Callable[..., Client], keys: dict[str, Any]) -> None:
    for algorithm, (private, public) in keys.items():
        client = make_client(jwt_secret=None, jwt_public_key=public)
        good = token_for(key=private, algorithm=algorithm)
        response = client.request("POST", "/getToken", bearer=good, json=rtc_body("alice"))
        assert response.status_code == 200, response.text
        # algorithm confusion: an HS256 JWT "signed" with the public key text is refused
        confused = hs256_signed_with(public.encode(), {"sub": "alice", "exp": int(time.time()) + 600})
        refused = client.request("POST", "/getToken", bearer=confused, json=rtc_body("alice"))
        assert refused.status_code == 401 and f"not signed with {algorithm}" in detail(refused)
        other_algorithm = "ES256" if algorithm == "RS256" else "RS256"
        foreign = token_for(key=keys[other_algorithm][0], algorithm=other_algorithm)
        assert client.request("POST", "/getToken", bearer=foreign, json=rtc_body("alice")).status_code == 401


# ---------------------------------------------------------------- 403: identity, channels, Chat app


@pytest.mark.default_kernel
def test_tokens_only_for_the_callers_identity(make_client: Callable[..., Client]) -> None:
    client = make_client(admin_api_key=ADMIN_KEY)
    bearer = token_for("alice")
    own = client.request("POST", "/getToken", bearer=bearer, json=rtc_body("alice"))
    assert own.status_code == 200
    service = AccessToken2.parse(own.json()["token"]).services[0]
    assert isinstance(service, ServiceRtc) and service.uid == "alice"
    for method, path, kwargs, phrase in (
        ("POST", "/getToken", {"json": rtc_body("bob")}, "not the identity"),
        ("POST", "/getToken", {"json": rtc_body(0)}, "uid 0 (any uid)"),
        ("POST", "/getToken", {"json": {"tokenType": "rtm", "uid": "bob"}}, "not the identity"),
        ("POST", "/getToken", {"json": {"tokenType": "chat", "uid": "bob"}}, "not the identity"),
        ("POST", "/getToken", {"json": {"tokenType": "chat"}}, "never served on a user JWT"),
        ("GET", "/chat/app/token", {}, "never served on a user JWT"),
        ("GET", "/chat/app/", {}, "never served on a user JWT"),
        ("GET", "/v1/token?channel_name=room", {}, "uid 0 (any uid)"),
        ("GET", "/rtc/room/publisher/uid//", {}, "uid 0 (any uid)"),
        ("GET", "/rtc/room/publisher/userAccount/bob/", {}, "not the identity"),
        ("GET", "/rte/room/publisher/userAccount/alice/bob/", {}, "not the identity"),
        ("GET", "/chat/user/bob/token", {}, "not the identity"),
        ("GET", "/chat/account/bob/", {}, "not the identity"),
        ("GET", "/rtm/bob/", {}, "not the identity"),
    ):
        response = client.request(method, path, bearer=bearer, **kwargs)
        assert response.status_code == 403, (path, response.text)
        assert phrase in detail(response)
    for method, path, kwargs in (
        ("POST", "/getToken", {"json": {"tokenType": "rtm", "uid": "alice", "channel": "room"}}),
        ("GET", "/rtc/room/publisher/userAccount/alice/", {}),
        ("GET", "/rte/room/subscriber/userAccount/alice/", {}),
        ("GET", "/chat/account/alice/", {}),
    ):
        assert client.request(method, path, bearer=bearer, **kwargs).status_code == 200, path
    # the admin key still gets everything
    assert client.request("GET", "/chat/app/token", bearer=ADMIN_KEY).status_code == 200
    assert client.request("POST", "/getToken", bearer=ADMIN_KEY, json=rtc_body(0)).status_code == 200


@pytest.mark.default_kernel
def test_numeric_identity_matches_a_numeric_uid(make_client: Callable[..., Client]) -> None:
    client = make_client()
    bearer = token_for("42")
    for uid in (42, "42"):
        response = client.request("POST", "/getToken", bearer=bearer, json=rtc_body(uid))
        assert response.status_code == 200
        service = AccessToken2.parse(response.json()["token"]).services[0]
        assert isinstance(service, ServiceRtc) and service.uid == "42"
    assert client.request("GET", "/rtc/room/publisher/uid/42/", bearer=bearer).status_code == 200
    assert client.request("GET", "/rtc/room/publisher/uid/43/", bearer=bearer).status_code == 403


@pytest.mark.default_kernel
def test_channels_claim_limits_the_channels(make_client: Callable[..., Client]) -> None:
    client = make_client()
    bearer = token_for(channels=["room", "lobby"])
    assert client.request("POST", "/getToken", bearer=bearer, json=rtc_body("alice", "lobby")).status_code == 200
    refused = client.request("POST", "/getToken", bearer=bearer, json=rtc_body("alice", "vault"))
    assert refused.status_code == 403 and "channels your JWT allows" in detail(refused)
    stream = client.request(
        "POST", "/getToken", bearer=bearer, json={"tokenType": "rtm", "uid": "alice", "channel": "x"}
    )
    assert stream.status_code == 403
    plain_rtm = client.request("POST", "/getToken", bearer=bearer, json={"tokenType": "rtm", "uid": "alice"})
    assert plain_rtm.status_code == 200
    anywhere = token_for(channels=["*"])
    assert client.request("POST", "/getToken", bearer=anywhere, json=rtc_body("alice", "vault")).status_code == 200


@pytest.mark.default_kernel
def test_jwts_never_reach_the_logs(make_client: Callable[..., Client], caplog: pytest.LogCaptureFixture) -> None:
    client = make_client()
    bearers = [token_for(), token_for(exp=int(time.time()) - 60), token_for("bob")]
    with caplog.at_level(logging.DEBUG):
        for bearer in bearers:
            client.request("POST", "/getToken", bearer=bearer, json=rtc_body("alice"))
    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    assert "POST /getToken 200" in logged and "POST /getToken 401" in logged and "POST /getToken 403" in logged
    for bearer in bearers:
        assert bearer not in logged and bearer.split(".")[2] not in logged
    assert SECRET not in logged


# ---------------------------------------------------------------- configuration


def test_jwt_settings_from_files(tmp_path: Path, keys: dict[str, Any]) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    base = {"AGORA_APP_ID": APP_ID, "AGORA_APP_CERTIFICATE": CERT}
    loaded = Settings.from_env({**base, "ACCESSTOKEN2_JWT_SECRET_FILE": str(secret_file)})
    assert loaded.jwt_mode and loaded.jwt_secret == SECRET and SECRET not in repr(loaded)
    key_file = tmp_path / "key.pem"
    key_file.write_text(keys["ES256"][1])
    loaded = Settings.from_env(
        {**base, "ACCESSTOKEN2_JWT_PUBLIC_KEY_FILE": str(key_file), "ACCESSTOKEN2_JWT_IDENTITY_CLAIM": "uid"}
    )
    assert loaded.jwt_public_key == keys["ES256"][1].strip() and loaded.jwt_identity_claim == "uid"


@pytest.mark.parametrize(
    ("files", "name", "phrase"),
    [
        ({"ACCESSTOKEN2_JWT_SECRET_FILE": "missing"}, "ACCESSTOKEN2_JWT_SECRET_FILE", "cannot read the file"),
        ({"ACCESSTOKEN2_JWT_SECRET_FILE": "short"}, "ACCESSTOKEN2_JWT_SECRET_FILE", "at least 32 bytes"),
        ({"ACCESSTOKEN2_JWT_PUBLIC_KEY_FILE": "garbage"}, "ACCESSTOKEN2_JWT_PUBLIC_KEY_FILE", "not a PEM public key"),
        (
            {"ACCESSTOKEN2_JWT_SECRET_FILE": "secret", "ACCESSTOKEN2_JWT_PUBLIC_KEY_FILE": "key"},
            "ACCESSTOKEN2_JWT_PUBLIC_KEY_FILE",
            "not both",
        ),
        ({"ACCESSTOKEN2_AUTHORIZER": "no colon"}, "ACCESSTOKEN2_AUTHORIZER", "package.module:function"),
    ],
)
def test_bad_jwt_settings_are_refused(
    tmp_path: Path, keys: dict[str, Any], files: dict[str, str], name: str, phrase: str
) -> None:
    contents = {"secret": SECRET, "short": "too short", "garbage": "-----BEGIN nonsense", "key": keys["RS256"][1]}
    env = {"AGORA_APP_ID": APP_ID, "AGORA_APP_CERTIFICATE": CERT}
    for variable, stem in files.items():
        if stem in contents:
            (tmp_path / stem).write_text(contents[stem])
        env[variable] = str(tmp_path / stem) if variable.endswith("_FILE") else stem
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(env)
    assert caught.value.parameter == name and phrase in str(caught.value)
    assert SECRET not in str(caught.value) and "\n" not in str(caught.value)


# ---------------------------------------------------------------- the authorizer hook

HOOK_MODULE = textwrap.dedent(
    """
    import dataclasses
    from accesstoken2.server import Denied

    SEEN = []

    def authorize(grant, headers):
        SEEN.append((grant, headers.get("x-tenant")))
        if headers.get("x-tenant") != "acme":
            raise Denied("unknown tenant")
        if grant.channel == "forbidden":
            return False
        if grant.kind == "rtc" and grant.role == "publisher" and grant.channel == "stage":
            return dataclasses.replace(grant, role="subscriber", expire=60)
        if grant.channel == "widen":
            return dataclasses.replace(grant, uid=0)
        if grant.channel == "broken":
            return "yes"
        return None

    async def authorize_async(grant, headers):
        return grant.channel != "no"
    """
)


@pytest.fixture
def hook_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    name = f"hook_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(HOOK_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


@pytest.mark.default_kernel
def test_authorizer_allows_denies_and_narrows(make_client: Callable[..., Client], hook_module: str) -> None:
    client = make_client(jwt_secret=None, api_key=USER_KEY, authorizer=f"{hook_module}:authorize")
    tenant = {"X-Tenant": "acme"}

    def post(body: dict[str, Any], headers: dict[str, str] = tenant) -> Any:
        return client.request("POST", "/getToken", bearer=USER_KEY, json=body, headers=headers)

    allowed = post(rtc_body(7, "room"))
    assert allowed.status_code == 200
    denied = post(rtc_body(7, "room"), {"X-Tenant": "other"})
    assert denied.status_code == 403 and detail(denied) == "unknown tenant"
    refused = post(rtc_body(7, "forbidden"))
    assert refused.status_code == 403 and "refused by the authorizer" in detail(refused)
    narrowed = post(rtc_body(7, "stage"))
    assert narrowed.status_code == 200
    parsed = AccessToken2.parse(narrowed.json()["token"])
    service = parsed.services[0]
    assert isinstance(service, ServiceRtc) and set(service.privileges) == {ServiceRtc.kPrivilegeJoinChannel}
    assert parsed.expire == 60 and narrowed.json()["expires_in"] == 60
    broken = post(rtc_body(7, "broken"))
    assert broken.status_code == 500 and detail(broken) == "internal server error: the authorizer failed"
    seen = sys.modules[hook_module].SEEN
    assert seen[0][0].kind == "rtc" and seen[0][0].uid == 7 and seen[0][0].role == "publisher"
    # the hook sees the lifetime the token gets: the server's default, not None
    assert dataclasses.asdict(seen[0][0])["expire"] == 3600
    rtm = client.request("GET", "/rtm/ann/", bearer=USER_KEY, headers=tenant)
    assert rtm.status_code == 200
    assert isinstance(AccessToken2.parse(rtm.json()["rtmToken"]).services[0], ServiceRtm)


def test_authorizer_cannot_widen_a_jwt(make_client: Callable[..., Client], hook_module: str) -> None:
    client = make_client(authorizer=f"{hook_module}:authorize")
    widened = client.request(
        "POST", "/getToken", bearer=token_for("alice"), json=rtc_body("alice", "widen"), headers={"X-Tenant": "acme"}
    )
    assert widened.status_code == 403 and "uid 0" in detail(widened)


@pytest.mark.default_kernel
def test_async_authorizer(make_client: Callable[..., Client], hook_module: str) -> None:
    client = make_client(jwt_secret=None, authorizer=f"{hook_module}:authorize_async")
    assert client.request("POST", "/getToken", json=rtc_body(1, "yes")).status_code == 200
    assert client.request("POST", "/getToken", json=rtc_body(1, "no")).status_code == 403


@pytest.mark.parametrize("path", ["no_such_module_xyz:authorize", "json:no_such_function"])
def test_unloadable_authorizer_refuses_to_start(clean_serve: Callable[..., Any], path: str) -> None:
    outcome = clean_serve(path)
    assert outcome.status == 2 and not outcome.built
    assert outcome.output.count("\n") == 1 and "ACCESSTOKEN2_AUTHORIZER" in outcome.output


def test_verified_jwts_are_reused_only_within_their_validity(monkeypatch: pytest.MonkeyPatch) -> None:
    from accesstoken2.server import auth

    authenticator = auth.Authenticator(Settings(app_id=APP_ID, app_certificate=CERT, jwt_secret=SECRET))
    header = f"Bearer {token_for('alice')}".encode()
    verifier = authenticator._jwt
    assert verifier is not None
    calls: list[bytes] = []
    verify = verifier._verify

    def counting(credential: bytes) -> Any:
        calls.append(credential)
        return verify(credential)

    monkeypatch.setattr(verifier, "_verify", counting)
    first = authenticator.principal(header)
    assert authenticator.principal(header) == first and len(calls) == 1  # reused
    later = time.time() + 3600
    monkeypatch.setattr(auth.time, "time", lambda: later)  # past the JWT's exp: not reused, verified again
    authenticator.principal(header)
    assert len(calls) == 2


@pytest.mark.default_kernel
def test_authorizer_found_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_serve: Callable[..., Any]
) -> None:
    """``ACCESSTOKEN2_AUTHORIZER=myapp.tokens:authorize`` finds ./myapp/tokens.py, as uvicorn --app-dir does."""
    package = tmp_path / "myapp_cwd_hook"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "tokens.py").write_text("def authorize(grant, headers):\n    return grant.channel != 'vault'\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [entry for entry in sys.path if entry not in ("", str(tmp_path))])
    apps = clean_serve("myapp_cwd_hook.tokens:authorize")
    assert apps.status == 0 and len(apps.built) == 1
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=apps.built[0]), base_url="http://t")

    async def post(channel: str) -> int:
        response = await client.post("/getToken", json={"tokenType": "rtc", "channel": channel, "uid": 1})
        return response.status_code

    assert asyncio.run(post("room")) == 200
    sys.modules.pop("myapp_cwd_hook.tokens", None)
    sys.modules.pop("myapp_cwd_hook", None)


def test_authorizer_import_failure_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_serve: Callable[..., Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    apps = clean_serve("myapp_nowhere.tokens:authorize")
    assert apps.status == 2
    assert apps.output.count("\n") == 1
    assert "no module named myapp_nowhere" in apps.output and "working directory" in apps.output
    assert str(tmp_path) in apps.output


@pytest.fixture
def clean_serve(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """Runs serve() with the test credentials and an authorizer, uvicorn's server replaced by a recorder."""
    import uvicorn

    class Outcome:
        def __init__(self) -> None:
            self.built: list[Any] = []
            self.status = -1
            self.output = ""

    outcome = Outcome()

    class RecordingServer:
        def __init__(self, config: Any) -> None:
            outcome.built.append(config.app)
            self.started = True

        def run(self) -> None:
            return None

    def run(path: str) -> Outcome:
        for name in [name for name in os.environ if name.startswith(("ACCESSTOKEN2_", "AGORA_"))]:
            monkeypatch.delenv(name)
        for variable, value in {
            "AGORA_APP_ID": APP_ID,
            "AGORA_APP_CERTIFICATE": CERT,
            "ACCESSTOKEN2_AUTHORIZER": path,
        }.items():
            monkeypatch.setenv(variable, value)
        monkeypatch.setattr(uvicorn, "Server", RecordingServer)
        # uvicorn's Config applies serve()'s logging configuration to the whole process (on older uvicorn
        # releases that leaves accesstoken2.server's records out of later tests' caplog): not here
        monkeypatch.setattr(logging.config, "dictConfig", lambda config: None)
        stream = io.StringIO()
        outcome.status = serve(port=0, stderr=stream)
        outcome.output = stream.getvalue()
        return outcome

    return run
