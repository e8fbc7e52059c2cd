"""Password hashing with argon2 (argon2-cffi), and API token hashing."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_password() -> str:
    return secrets.token_urlsafe(12)


def new_api_token() -> str:
    return "nf_" + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    # Tokens are long random strings, so a plain digest is enough and keeps lookups indexed.
    return hashlib.sha256(token.encode()).hexdigest()
