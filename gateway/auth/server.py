"""authlib's framework-neutral authorization server, configured for the gateway.

authlib does the RFC parts (client authentication incl. RFC 7523 assertions, the client
credentials grant, RFC 9068 token generation, RFC 7662/7009 endpoints). It is synchronous, so
the async glue (gateway/auth/glue.py) loads from the database everything a request may need
into an ``Exchange`` first, runs authlib in a worker thread, then writes what authlib decided.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from authlib.consts import default_json_headers
from authlib.oauth2.rfc6749 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidClientError, OAuth2Error
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from joserfc.jwk import KeySet
from starlette.datastructures import Headers

from gateway.auth.crypto import verify_client_secret
from gateway.auth.keys import KeyRing
from gateway.auth.scopes import SCOPES_SUPPORTED
from gateway.auth.tokens import AccessClaims, InvalidAccessToken, verify_access_token

GRANT_TYPE = "client_credentials"
SECRET_METHODS = ("client_secret_basic", "client_secret_post")
KEY_METHOD = "private_key_jwt"
AUTH_METHODS = [*SECRET_METHODS, KEY_METHOD]
ADMIN_SCOPE = "admin"


@dataclass(frozen=True)
class ClientRecord:
    """A client as authlib sees it (authlib's ClientMixin), detached from the session."""

    client_id: str
    agency: str
    scopes: tuple[str, ...]
    secret_hash: str | None
    jwks: dict[str, Any] | None

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        # RFC 6749 §3.3: no scope asked means the client's registered scopes; asking for
        # more than it holds is refused (None makes authlib answer invalid_scope).
        if not scope:
            return " ".join(self.scopes)
        asked = list(dict.fromkeys(scope_to_list(scope)))
        if not set(asked) <= set(self.scopes):
            return None
        return " ".join(asked)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return verify_client_secret(client_secret, self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        # A client holds either a secret or a key set: it may use only the matching methods.
        if self.jwks is not None:
            return method == KEY_METHOD
        return self.secret_hash is not None and method in SECRET_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == GRANT_TYPE


@dataclass
class Exchange:
    """What one OAuth request reads (preloaded) and what authlib decided (written after)."""

    ring: KeyRing
    clients: dict[str, ClientRecord] = field(default_factory=dict)
    token_refused: bool = False  # the token under introspection is revoked
    assertion_jti: str | None = None  # a verified client assertion, to burn (replay)
    assertion_exp: int | None = None
    revoked: list[AccessClaims] = field(default_factory=list)


_exchange: ContextVar[Exchange] = ContextVar("mno_oauth_exchange")


def current_exchange() -> Exchange:
    return _exchange.get()


def set_exchange(exchange: Exchange) -> Any:
    return _exchange.set(exchange)


def reset_exchange(token: Any) -> None:
    _exchange.reset(token)


def assertion_jti_key(client_id: str, jti: str) -> str:
    """Denylist key of a used client assertion (namespaced apart from access token ids)."""
    digest = hashlib.sha256(f"{client_id}\0{jti}".encode()).hexdigest()
    return f"assertion:{digest}"


class FormRequest(OAuth2Request):  # type: ignore[misc]
    """An OAuth2Request over an already parsed form body.

    OAuth2Request.__init__ is not called: it refuses any ``http://`` URL that is not loopback,
    while TLS ends at the reverse proxy in front of the gateway, so every URL seen here is
    ``http://``. The attributes it would set are set here instead.
    """

    def __init__(self, method: str, uri: str, headers: Headers, form: dict[str, str]) -> None:
        self.method = method
        self.uri = uri
        self.headers = headers
        self._body = None
        self._form = form
        self.payload = BasicOAuth2Payload(form)
        self.client = None
        self.auth_method = None
        self.user = None
        self.authorization_code = None
        self.refresh_token = None
        self.credential = None
        self._scope = None

    @property
    def args(self) -> dict[str, str]:
        return {}

    @property
    def form(self) -> dict[str, str]:
        return self._form


@dataclass(frozen=True)
class OAuthResponse:
    status: int
    body: dict[str, Any]
    headers: list[tuple[str, str]]


@dataclass(frozen=True)
class IssuedToken:
    """A verified access token as authlib's TokenMixin (introspection, revocation)."""

    claims: AccessClaims
    refused: bool

    def check_client(self, client: ClientRecord) -> bool:
        return self.claims.client_id == client.client_id

    def get_scope(self) -> str:
        return " ".join(sorted(self.claims.scopes))

    def get_expires_in(self) -> int:
        return self.claims.exp - self.claims.iat

    def is_expired(self) -> bool:
        return False  # verify_access_token already refused expired tokens

    def is_revoked(self) -> bool:
        return self.refused


class ClientCredentials(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS


class PrivateKeyJwt(JWTBearerClientAssertion):  # type: ignore[misc]
    """RFC 7523 client authentication with a key from the client's registered JWKS."""

    CLIENT_AUTH_METHOD = KEY_METHOD

    def __init__(self, audiences: list[str]) -> None:
        super().__init__(validate_jti=True, leeway=60)
        self._audiences = audiences

    def get_audiences(self) -> list[str]:
        return self._audiences

    def resolve_client_public_key(self, client: ClientRecord) -> KeySet:
        if client.jwks is None:
            # A secret client has no registered key: its assertions cannot be verified.
            raise InvalidClientError()
        return KeySet.import_key_set(client.jwks)  # type: ignore[arg-type]

    def validate_jti(self, claims: dict[str, Any], jti: str) -> bool:
        # Called only after the signature verified. The glue then writes the jti to the
        # denylist atomically; a second use of the same assertion fails there.
        exchange = current_exchange()
        exchange.assertion_jti = assertion_jti_key(str(claims["sub"]), str(jti))
        exchange.assertion_exp = int(claims["exp"])
        return True


class AccessTokenGenerator(JWTBearerTokenGenerator):  # type: ignore[misc]
    """RFC 9068 tokens signed with the newest key, with the client's agency as a claim."""

    def __init__(self, issuer: str, audience: str, ttl_seconds: int) -> None:
        super().__init__(issuer=issuer, expires_generator=ttl_seconds)
        self._audience = audience

    # authlib reads ``self.alg`` for the header; the key ring of the request decides it.
    @property
    def alg(self) -> str:
        return current_exchange().ring.signing.alg

    @alg.setter
    def alg(self, _value: str) -> None:
        pass

    def get_jwks(self) -> KeySet:
        # A one-key set makes joserfc write that key's kid in the header.
        return KeySet([current_exchange().ring.signing.key])

    def get_audiences(self, client: ClientRecord, user: object, scope: str) -> str:
        return self._audience

    def get_extra_claims(
        self, client: ClientRecord, grant_type: str, user: object, scope: str
    ) -> dict[str, Any]:
        return {"agency": client.agency}

    def get_jti(self, client: ClientRecord, grant_type: str, user: object, scope: str) -> str:
        return secrets.token_urlsafe(18)


class _TokenLookup:
    """Shared by introspection and revocation: our tokens are self-contained JWTs."""

    issuer: str
    audience: str

    def query_token(self, token_string: str, token_type_hint: str | None) -> IssuedToken | None:
        exchange = current_exchange()
        try:
            claims = verify_access_token(
                token_string, exchange.ring, issuer=self.issuer, audience=self.audience
            )
        except InvalidAccessToken:
            return None
        return IssuedToken(claims, refused=exchange.token_refused)


class Introspection(_TokenLookup, IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def __init__(self, issuer: str, audience: str) -> None:
        super().__init__()
        self.issuer = issuer
        self.audience = audience

    def check_permission(self, token: IssuedToken, client: ClientRecord, request: Any) -> bool:
        # An agency's systems may inspect their own agency's tokens; admins any token.
        return token.claims.agency == client.agency or ADMIN_SCOPE in client.scopes

    def introspect_token(self, token: IssuedToken) -> dict[str, Any]:
        claims = token.claims.claims
        return {
            "active": True,
            "token_type": "Bearer",
            "client_id": claims["client_id"],
            "scope": claims.get("scope", ""),
            "sub": claims["sub"],
            "aud": claims["aud"],
            "iss": claims["iss"],
            "exp": claims["exp"],
            "iat": claims["iat"],
            "jti": claims["jti"],
            "agency": claims["agency"],
        }


class Revocation(_TokenLookup, RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def __init__(self, issuer: str, audience: str) -> None:
        super().__init__()
        self.issuer = issuer
        self.audience = audience

    def revoke_token(self, token: IssuedToken, request: Any) -> None:
        current_exchange().revoked.append(token.claims)


# RFC 6749 §5.2 allows only printable ASCII in error_description: the French half is written
# with its accents here and folded to ASCII when sent.
ERROR_TEXT: dict[str, tuple[str, str]] = {
    "invalid_client": (
        "Authentification du client refusée",
        "Client authentication failed",
    ),
    "invalid_scope": (
        "Portée inconnue ou non accordée à ce client",
        "Scope unknown or not granted to this client",
    ),
    "invalid_request": ("Requête invalide", "Invalid request"),
    "invalid_grant": ("Jeton non délivré à ce client", "Token not issued to this client"),
    "unauthorized_client": (
        "Client non autorisé pour ce type d'autorisation",
        "Client not allowed to use this grant type",
    ),
    "unsupported_grant_type": (
        "Type d'autorisation non pris en charge (client_credentials uniquement)",
        "Unsupported grant type (client_credentials only)",
    ),
    "unsupported_token_type": (
        "Type de jeton non pris en charge",
        "Unsupported token type",
    ),
    "too_many_requests": (
        "Trop de requêtes ; réessayez plus tard",
        "Too many requests; retry later",
    ),
}


def ascii_text(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(c for c in folded if c in (" ", "!") or "#" <= c <= "~" and c != "\\")


def error_body(error: str, detail_en: str | None = None) -> dict[str, Any]:
    fr, en = ERROR_TEXT.get(error, ("Erreur", "Error"))
    # authlib's own text says which parameter is wrong; other errors keep the fixed text
    # (for invalid_client, so as not to tell an unknown id from a wrong secret).
    if detail_en and error == "invalid_request":
        en = f"{en}: {detail_en}"
    return {"error": error, "error_description": ascii_text(f"{fr} / {en}")}


class GatewayAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """Client credentials only; clients come from the request's preloaded Exchange."""

    def __init__(self, *, issuer: str, audience: str, token_ttl_seconds: int) -> None:
        super().__init__(scopes_supported=list(SCOPES_SUPPORTED))
        self.issuer = issuer.rstrip("/")
        self.token_endpoint = f"{self.issuer}/oauth/token"
        self.register_grant(ClientCredentials)
        self.register_token_generator(
            "default", AccessTokenGenerator(self.issuer, audience, token_ttl_seconds)
        )
        self.register_client_auth_method(
            KEY_METHOD, PrivateKeyJwt([self.token_endpoint, self.issuer])
        )
        self.register_endpoint(Introspection(self.issuer, audience))
        self.register_endpoint(Revocation(self.issuer, audience))

    def query_client(self, client_id: str) -> ClientRecord | None:
        return current_exchange().clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        # Self-contained JWTs: nothing to store. Revocation keeps a denylist of jti instead.
        return None

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request

    def handle_response(
        self, status: int, body: dict[str, Any], headers: list[tuple[str, str]]
    ) -> OAuthResponse:
        return OAuthResponse(status, dict(body), list(headers))

    def handle_error_response(self, request: OAuth2Request, error: OAuth2Error) -> OAuthResponse:
        status = error.status_code
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "www-authenticate"]
        if isinstance(error, InvalidClientError):
            # One answer for unknown client, wrong secret and bad assertion: no enumeration.
            status = 401
            headers.append(("WWW-Authenticate", 'Basic realm="mno"'))
        return OAuthResponse(status, error_body(error.error, error.description), headers)


def invalid_client_response() -> OAuthResponse:
    return OAuthResponse(
        401,
        error_body("invalid_client"),
        [*default_json_headers, ("WWW-Authenticate", 'Basic realm="mno"')],
    )
