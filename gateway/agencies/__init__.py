"""Member agencies of the MNO and their OAuth2 clients."""
