"""Passwords (argon2), API tokens (only their SHA-256 is stored) and the cookie-signing secret."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from .errors import AuthError, UsageError
from .models import User
from .store import Store

MIN_PASSWORD = 8


def _hasher():  # type: ignore[no-untyped-def]
    from argon2 import PasswordHasher

    return PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of a password of at least 8 characters."""
    if len(password) < MIN_PASSWORD or len(password) > 1024:
        raise UsageError(f"a password has {MIN_PASSWORD} to 1,024 characters")
    return str(_hasher().hash(password))


def authenticate(store: Store, email: str, password: str) -> User:
    """The account for these credentials, or AuthError (same message whichever part is wrong)."""
    from argon2.exceptions import VerificationError, InvalidHashError

    user = store.users.by_email(email)
    stored = store.users.password_hash(user.id) if user else None
    try:
        if user is None or stored is None or not _hasher().verify(stored, password):
            raise AuthError("wrong email or password")
    except (VerificationError, InvalidHashError):
        raise AuthError("wrong email or password") from None
    if _hasher().check_needs_rehash(stored):
        store.users.set_password_hash(user.id, hash_password(password))
    return user


def token_hash(token: str) -> str:
    """What the store keeps of an API token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_api_token(store: Store, user_id: int) -> str:
    """Issue a new API token for scripts (replacing the old one); shown once, stored hashed."""
    token = "ps_" + secrets.token_urlsafe(32)
    store.users.set_api_token_hash(user_id, token_hash(token))
    return token


def user_for_token(store: Store, token: str) -> User:
    """The account an API token belongs to, or AuthError."""
    user = store.users.by_api_token_hash(token_hash(token.strip()))
    if user is None:
        raise AuthError("unknown or revoked API token; create one on the settings page")
    return user


def secret_key(home: Path) -> str:
    """The instance's cookie-signing secret, created (mode 600) in the data directory on first use."""
    path = home / "secret.key"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
