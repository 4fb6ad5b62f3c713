"""The consent registry: consents collected by agencies, withdrawals and purge receipts."""
