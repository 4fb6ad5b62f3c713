"""MNO Gateway: the exchange of the national referral mechanism (MNO, Guinea)."""

__version__ = "0.1.0"
