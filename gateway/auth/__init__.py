"""OAuth2 authorization server (client credentials, RFC 9068 JWT access tokens) and API auth."""
