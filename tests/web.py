"""Serving the Dash app from a test, and driving Debian's Chromium with Playwright."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import make_server

from dashboard.app import create_app
from ioc.config import Settings
from ioc.database import Database

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


def chromium_path() -> str | None:
    """`BROWSER_PATH` when set, else Debian's chromium on PATH."""
    return os.environ.get("BROWSER_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


@contextmanager
def serve_app(settings: Settings, database: Database) -> Iterator[str]:
    """Run the app on a free loopback port in a thread; yield its base URL."""
    app = create_app(settings, database)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
