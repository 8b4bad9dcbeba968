"""Alembic migrations of the IOC schema (`ioc db upgrade`)."""
