"""Alembic migrations of the case database (a package so that it ships with the wheel)."""
