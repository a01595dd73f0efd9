"""SQLAlchemy models, sessions and queries."""
