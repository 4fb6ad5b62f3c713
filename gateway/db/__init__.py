"""Database engine, declarative base and Alembic migrations."""
