#!/usr/bin/env bash
# Placeholder until the event backbone lands: resolves Apache Kafka from Maven Central.
exit 0
