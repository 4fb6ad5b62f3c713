"""Operations: health, readiness, metrics, structured logs."""
