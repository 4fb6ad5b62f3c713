"""Staff passwords (scrypt) and the signed session and CSRF cookies of the dashboard.

Why a session login and not the OAuth2 authorization code flow: the gateway's authorization
server serves machine clients (client credentials); a handful of secretariat and steering
committee staff read the dashboard, often on poor connections. A server-side login with a slow
hash and a signed, HttpOnly cookie needs no extra round trips, no identity provider and no
redirect URIs, and works offline on the local network. See docs/meal.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

# scrypt cost: 2^15 × 8 × 128 bytes = 32 MiB and ~0.1 s per check (OWASP's minimum is 2^17 for
# n with r=8, p=1 when memory allows; raise N_LOG2 on a bigger server, old hashes keep working).
N_LOG2 = 15
R = 8
P = 1
SALT_BYTES = 16
KEY_BYTES = 32
SCHEME = "scrypt"

SESSION_COOKIE = "mno_dashboard"
CSRF_COOKIE = "mno_dashboard_csrf"
SESSION_MAX_AGE = 8 * 3600  # one working day
CSRF_MAX_AGE = 3600
COOKIE_PATH = "/dashboard"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n_log2: int, r: int, p: int) -> bytes:
    n = 1 << n_log2
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=256 * n * r,
        dklen=KEY_BYTES,
    )


def hash_password(password: str) -> str:
    """``scrypt$<log2 n>$<r>$<p>$<salt>$<key>`` (base64url)."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, N_LOG2, R, P)
    return f"{SCHEME}${N_LOG2}${R}${P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n_log2, r, p, salt, key = stored.split("$")
        if scheme != SCHEME:
            return False
        candidate = _scrypt(password, _unb64(salt), int(n_log2), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate, _unb64(key))


# Checked against when the e-mail is unknown, so the answer takes as long as a real check.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def verify_or_waste_time(password: str, stored: str | None) -> bool:
    if stored is None:
        verify_password(password, _DUMMY_HASH)
        return False
    return verify_password(password, stored)


def new_password() -> str:
    """A generated password, shown once: 24 URL-safe characters (144 bits)."""
    return secrets.token_urlsafe(18)


def fingerprint(password_hash: str) -> str:
    """Bound into the session: a password change or reset ends every open session."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Session:
    user_id: int
    csrf: str
    fingerprint: str


class Signer:
    """Signs session and CSRF cookies with a key derived from the gateway's master secret."""

    def __init__(self, master_secret: str) -> None:
        key = hmac.new(master_secret.encode(), b"mno/dashboard/cookies/v1", "sha256").digest()
        self._session = URLSafeTimedSerializer(key, salt="mno.dashboard.session")
        self._csrf = URLSafeTimedSerializer(key, salt="mno.dashboard.csrf")

    def session_cookie(self, session: Session) -> str:
        return self._session.dumps(
            {"u": session.user_id, "c": session.csrf, "f": session.fingerprint}
        )

    def read_session(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            data: Any = self._session.loads(cookie, max_age=SESSION_MAX_AGE)
        except BadSignature:  # also SignatureExpired
            return None
        if not isinstance(data, dict):
            return None
        user, csrf, fp = data.get("u"), data.get("c"), data.get("f")
        if not isinstance(user, int) or not isinstance(csrf, str) or not isinstance(fp, str):
            return None
        return Session(user, csrf, fp)

    def csrf_cookie(self, token: str) -> str:
        return self._csrf.dumps(token)

    def read_csrf(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            token: Any = self._csrf.loads(cookie, max_age=CSRF_MAX_AGE)
        except BadSignature:
            return None
        return token if isinstance(token, str) else None


def same_token(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


class LoginThrottle:
    """At most ``limit`` failed sign-ins per e-mail in ``window`` seconds (per process)."""

    def __init__(self, limit: int = 5, window: float = 900.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, list[float]] = {}

    def blocked(self, key: str, now: float) -> bool:
        recent = [t for t in self._failures.get(key, []) if now - t < self.window]
        self._failures[key] = recent
        return len(recent) >= self.limit

    def failed(self, key: str, now: float) -> None:
        self._failures.setdefault(key, []).append(now)
        if len(self._failures) > 10_000:  # bounded memory under a spray of e-mails
            self._failures.pop(next(iter(self._failures)))

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)
