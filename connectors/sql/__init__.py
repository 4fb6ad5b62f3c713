"""Polling connector for legacy SQL databases: keyset source and local checkpoint store."""
