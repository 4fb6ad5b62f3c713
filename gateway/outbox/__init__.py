"""Transactional outbox: events written with the change, published to Kafka after commit."""
