"""Connector support: agency encryption keys for connectors, and connector heartbeats."""
