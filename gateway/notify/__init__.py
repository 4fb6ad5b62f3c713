"""E-mail and SMS notices to the focal points (role contacts) of agencies."""
