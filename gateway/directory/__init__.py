"""The service-provider directory (répertoire des prestataires), aligned with Open Referral HSDS."""
