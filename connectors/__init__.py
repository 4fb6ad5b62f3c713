"""Agency-side kit: pseudonymiser, gateway client, polling connectors and importers."""
