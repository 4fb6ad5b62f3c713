"""Kafka plumbing shared by the relay, the router and the inbox: broker, topics, CloudEvents."""
