"""`ioc run`, `ioc check`, `ioc status`, `ioc worker`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the source commands to the top-level app."""
