"""KoboToolbox / ODK exports (CSV, XLSX) as a connector source."""
