"""The linkage worker: matching against the assistance ledger, off the request path."""
