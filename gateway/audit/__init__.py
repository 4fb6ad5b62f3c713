"""Append-only, hash-chained audit log of every read and change of referral or consent data."""
