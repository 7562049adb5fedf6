"""Passwords (argon2id, hashed off any lock and a bounded number at a time), email checks, and every bearer
secret paperscope hands out (API, feed, password-reset, session ids): shown once, stored only as SHA-256."""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from .errors import AuthError, UsageError
from .models import User
from .store import Store
from .store.accounts import sha256_hex

if TYPE_CHECKING:
    from .backends import AnyStore

MIN_PASSWORD = 8
RESET_LIFETIME = timedelta(hours=1)
_SLOTS: dict[int, threading.BoundedSemaphore] = {}
_SLOTS_LOCK = threading.Lock()


def _hasher():  # type: ignore[no-untyped-def]
    from argon2 import PasswordHasher

    # OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): one hash uses one core, so a burst of
    # sign-ins limited to one hash at a time leaves the other core to search.
    return PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def hashing_slot(workers: int = 1) -> threading.BoundedSemaphore:
    """The process-wide budget of concurrent password hashes (callers wait their turn, holding no lock)."""
    with _SLOTS_LOCK:
        return _SLOTS.setdefault(max(1, workers), threading.BoundedSemaphore(max(1, workers)))


def check_password(password: str) -> None:
    """Refuse a password that is too short or absurdly long."""
    if len(password) < MIN_PASSWORD or len(password) > 1024:
        raise UsageError(f"a password has {MIN_PASSWORD} to 1,024 characters")


def hash_password(password: str, workers: int = 1) -> str:
    """An argon2id hash of a password of at least 8 characters."""
    check_password(password)
    with hashing_slot(workers):
        return str(_hasher().hash(password))


_DUMMY: list[str] = []


def _verify(stored: str | None, password: str, workers: int) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    if not _DUMMY:
        _DUMMY.append(str(_hasher().hash(secrets.token_urlsafe(16))))
    with hashing_slot(workers):
        try:  # an unknown account costs one hash too, so timing does not tell whether it exists
            return bool(_hasher().verify(stored or _DUMMY[0], password)) and stored is not None
        except (VerificationError, InvalidHashError):
            return False


def normalise_email(email: str) -> str:
    """The address as stored, after an RFC 5322 syntax check (no DNS lookup); UsageError otherwise."""
    from email_validator import EmailNotValidError, validate_email

    try:
        return str(validate_email(email.strip(), check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise UsageError(f"{email.strip()[:80]!r} is not a valid email address: {exc}") from None


def authenticate(store: Store, email: str, password: str, workers: int = 1) -> User:
    """The account for these credentials, or AuthError (same message whichever part is wrong)."""
    user = store.users.by_email(email)
    stored = store.users.password_hash(user.id) if user else None
    if not _verify(stored, password, workers) or user is None or stored is None or user.disabled:
        raise AuthError("wrong email or password")
    if _hasher().check_needs_rehash(stored):
        store.users.set_password_hash(user.id, hash_password(password, workers))
    return user


def verify_password(store: Store, user: User, password: str, workers: int = 1) -> None:
    """AuthError unless this is the user's current password (for a password change)."""
    stored = store.users.password_hash(user.id)
    if stored is None or not _verify(stored, password, workers):
        raise AuthError("the current password is wrong")


def set_password(store: Store, user_id: int, password: str, workers: int = 1) -> None:
    """Replace a password and end every session of the account (a stolen cookie stops working)."""
    fresh = hash_password(password, workers)
    store.users.set_password_hash(user_id, fresh)
    store.users.sessions_end_all(user_id)


def end_credentials(store: AnyStore, user_id: int) -> None:
    """Revoke the account's API token and its private feed URL (a password reset, "sign out everywhere", and a
    password change unless the member unticks it): whoever copied either loses it; new ones come from settings."""
    store.users.set_api_token_hash(user_id, None)
    store.users.revoke_tokens(user_id, "feed")


def token_hash(token: str) -> str:
    """What the store keeps of an API token."""
    return sha256_hex(token)


def mask(token: str) -> str:
    """The hint shown for a token after it was displayed once."""
    return token[:7] + "…"


def new_api_token(store: AnyStore, user_id: int) -> str:
    """Issue a new API token for scripts (replacing the old one); shown once, stored hashed."""
    token = "ps_" + secrets.token_urlsafe(32)
    store.users.set_api_token_hash(user_id, token_hash(token), mask(token))
    return token


def new_feed_token(store: Store, user_id: int) -> str:
    """Issue (or rotate) the secret of a user's private feed URLs; shown once, stored hashed."""
    token = "f" + secrets.token_urlsafe(24)
    store.users.add_token(user_id, "feed", token, mask(token), replace=True)
    return token


def new_unsubscribe_token(store: AnyStore, user_id: int) -> str:
    """A one-click unsubscribe secret for one mail; every issued link works until revoked from settings."""
    token = "u" + secrets.token_urlsafe(24)
    store.users.add_token(user_id, "unsubscribe", token, mask(token))
    return token


def new_reset_token(store: AnyStore, user_id: int, now: datetime | None = None) -> str:
    """A single-use password-reset secret valid for one hour (older reset links of this user stop working)."""
    token = "r" + secrets.token_urlsafe(32)
    expires = ((now or datetime.now(UTC)) + RESET_LIFETIME).strftime("%Y-%m-%dT%H:%M:%SZ")
    store.users.add_token(user_id, "reset", token, mask(token), expires, replace=True)
    return token


def user_for_token(store: Store, token: str) -> User:
    """The account an API token belongs to, or AuthError."""
    user = store.users.by_api_token_hash(token_hash(token.strip()))
    if user is None:
        raise AuthError("unknown or revoked API token; create one on the settings page")
    return user


def new_session_id() -> str:
    """An opaque, unguessable session cookie value (only its SHA-256 is stored)."""
    return secrets.token_urlsafe(32)
