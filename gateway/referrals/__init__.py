"""Referrals: submission, the SOP workflow, reads with object-level access control."""
