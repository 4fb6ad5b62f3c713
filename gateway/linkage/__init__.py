"""Gateway-side linkage: re-keyed pseudonyms, the assistance ledger, duplicate detection."""
