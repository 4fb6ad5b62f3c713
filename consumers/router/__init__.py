"""The router: canonical topics → policy decision → a redacted copy in each permitted inbox."""
