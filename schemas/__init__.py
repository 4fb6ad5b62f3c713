"""The shared MNO contract: referral, consent, agency, service and event models, code lists."""
