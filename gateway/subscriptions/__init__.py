"""Webhook subscriptions of agencies: endpoints, signed deliveries, replay."""
