"""WSGI entry point for production: `gunicorn dashboard.wsgi:server`.

The app is built on first access of `server` (module `__getattr__`), not at import time, from the
config named by `IOC_CONFIG` (default ./config.yaml) and the database in `DATABASE_URL`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import Flask


@cache
def _server() -> Flask:
    from dashboard.app import create_app
    from ioc.config import load_settings
    from ioc.database import open_database

    settings = load_settings()
    return create_app(settings, open_database(settings, allow_embedded=False)).server


def __getattr__(name: str) -> Any:
    if name in ("server", "application"):
        return _server()
    raise AttributeError(name)
