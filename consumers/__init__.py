"""Kafka consumers of the MNO backbone: router, notifier, MEAL aggregator."""
