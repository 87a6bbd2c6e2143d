"""Engine API authentication: HS256 JSON Web Tokens with an ``iat`` claim, as op-geth's authrpc checks them.

The shared secret is 32 bytes, kept as hex in a file (``--jwt-secret``, op-geth's format, with or without ``0x``).
A token is valid when its header says HS256, its signature verifies and ``iat`` is within 60 seconds of now
(execution-apis: src/engine/authentication.md). The checks and their texts follow op-geth node/jwt_handler.go
(read 2026-12-05): ``iat`` is a JSON number (golang-jwt ``NumericDate``: an integer or a fraction; one that does not
fit a float64, e.g. 10^400, is a malformed token), "stale token" when it is more than 60 s old, "future token" when
more than 60 s ahead. Every failure is a :class:`JWTError` (HTTP 401), never anything else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import os
import secrets
import time

from derivation.protocol.jsonutil import loads_bounded

IAT_WINDOW = 60


class JWTError(Exception):
    """The request's token is missing or invalid; the HTTP answer is 401."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise JWTError("malformed token encoding") from None


def read_secret(path: str) -> bytes:
    """A 32-byte secret from a hex file; a clear error for anything else."""
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError as e:
        raise ValueError(f"cannot read JWT secret {path}: {e.strerror}") from None
    if text[:2] in ("0x", "0X"):
        text = text[2:]
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"JWT secret {path} is not hex") from None
    if len(secret) != 32:
        raise ValueError(f"JWT secret {path} must be 32 bytes of hex, got {len(secret)} bytes")
    return secret


def write_secret(path: str) -> bytes:
    """Create a new random secret file (mode 0600), op-geth style."""
    secret = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("0x" + secret.hex())
    return secret


def make_token(secret: bytes, iat: int | None = None) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = _b64(json.dumps({"iat": int(time.time()) if iat is None else iat}, separators=(",", ":")).encode())
    sig = hmac.new(secret, f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{_b64(sig)}"


class BearerToken:
    """The ``Authorization`` value a client sends: a token made from ``secret``, renewed once it is 30 s old (tokens
    are valid for 60 s either side of their ``iat``, so a renewed one never expires in flight)."""

    RENEW_AFTER = 30.0

    def __init__(self, secret: bytes):
        self.secret = secret
        self._token: tuple[float, str] | None = None

    def header(self, now: float | None = None) -> str:
        now = time.time() if now is None else now
        if self._token is None or now - self._token[0] > self.RENEW_AFTER:
            self._token = (now, make_token(self.secret, int(now)))
        return f"Bearer {self._token[1]}"


def verify_token(secret: bytes, token: str, now: float | None = None) -> None:
    parts = token.split(".")
    if len(parts) != 3:
        raise JWTError("token must have three parts")
    try:
        header = loads_bounded(_unb64(parts[0]))
        claims = loads_bounded(_unb64(parts[1]))
    except (ValueError, UnicodeDecodeError):
        raise JWTError("token header or claims are not JSON") from None
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise JWTError("token algorithm must be HS256")
    want = hmac.new(secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(want, _unb64(parts[2])):
        raise JWTError("signature invalid")
    iat = claims.get("iat") if isinstance(claims, dict) else None
    if iat is None:
        raise JWTError("missing issued-at")
    if not isinstance(iat, (int, float)) or isinstance(iat, bool):
        raise JWTError("could not parse NumericDate: issued-at is not a number")
    try:
        issued = float(iat)
    except OverflowError:
        raise JWTError("could not convert json number value to float: issued-at out of range") from None
    if not math.isfinite(issued):
        raise JWTError("could not convert json number value to float: issued-at out of range")
    now = time.time() if now is None else now
    if now - issued > IAT_WINDOW:
        raise JWTError("stale token")
    if issued - now > IAT_WINDOW:
        raise JWTError("future token")


def check_authorization(secret: bytes, header_value: str | None, now: float | None = None) -> None:
    """The ``Authorization`` header's bearer token is valid, else :class:`JWTError`."""
    if not header_value or not header_value.startswith("Bearer "):
        raise JWTError("missing token")
    verify_token(secret, header_value[len("Bearer "):].strip(), now)
