"""Engine API authentication: HS256 JSON Web Tokens with an ``iat`` claim, as op-geth's authrpc checks them.

The shared secret is 32 bytes, kept as hex in a file (``--jwt-secret``, op-geth's format, with or without ``0x``).
A token is valid when its header says HS256, its signature verifies and ``iat`` is within 60 seconds of now
(execution-apis: src/engine/authentication.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time

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


def verify_token(secret: bytes, token: str, now: float | None = None) -> None:
    parts = token.split(".")
    if len(parts) != 3:
        raise JWTError("token must have three parts")
    try:
        header = json.loads(_unb64(parts[0]))
        claims = json.loads(_unb64(parts[1]))
    except (ValueError, UnicodeDecodeError):
        raise JWTError("token header or claims are not JSON") from None
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise JWTError("token algorithm must be HS256")
    want = hmac.new(secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(want, _unb64(parts[2])):
        raise JWTError("signature invalid")
    iat = claims.get("iat") if isinstance(claims, dict) else None
    if not isinstance(iat, int) or isinstance(iat, bool):
        raise JWTError("missing issued-at")
    now = time.time() if now is None else now
    if abs(now - iat) > IAT_WINDOW:
        raise JWTError("stale token")


def check_authorization(secret: bytes, header_value: str | None, now: float | None = None) -> None:
    if not header_value or not header_value.startswith("Bearer "):
        raise JWTError("missing token")
    verify_token(secret, header_value[len("Bearer "):].strip(), now)
