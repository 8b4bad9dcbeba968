"""`ioc demo` and `ioc web`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the serving commands to the top-level app."""
