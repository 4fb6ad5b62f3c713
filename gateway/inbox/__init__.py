"""Agency inboxes: the redacted events the router wrote for one agency, read by cursor."""
