"""The dashboard's figures (`dashboard.figures`) as vector SVG for the PDF, through kaleido.

kaleido drives the system Chromium (Debian's `chromium`, or `BROWSER_PATH`). One kaleido server is
kept warm for the whole build (`start_sync_server`), so each figure costs a fraction of a second
after the first.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import plotly.graph_objects as go

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
WIDTH = 720  # px at 96 dpi ≈ the A4 text width (19 cm)


class ChromiumMissing(RuntimeError):
    """kaleido needs Chromium to draw the charts."""


def chromium_path() -> str:
    """Where kaleido will find Chromium; a clear error naming the fix when there is none."""
    configured = os.environ.get("BROWSER_PATH")
    if configured:
        if os.access(configured, os.X_OK):
            return configured
        raise ChromiumMissing(
            f"BROWSER_PATH={configured} is not an executable Chromium: fix BROWSER_PATH "
            "or install it (apt-get install chromium)"
        )
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise ChromiumMissing(
        "the charts need Chromium, which was not found: apt-get install chromium "
        "(or set BROWSER_PATH to a Chromium/Chrome executable)"
    )


class SvgExporter:
    """Figures to SVG text, one warm Chromium for all of them."""

    def svg(self, figure: go.Figure, *, width: int = WIDTH, height: int | None = None) -> str:
        import kaleido

        height = height or int(figure.layout.height or 300)
        figure.update_layout(width=width, height=height)
        data = kaleido.calc_fig_sync(figure, opts={"format": "svg", "width": width, "height": height})
        text = data.decode("utf-8") if isinstance(data, bytes) else str(data)
        if "<svg" not in text:
            raise RuntimeError("kaleido returned no SVG")
        return text[text.index("<svg") :]


#: kaleido's warm server is one per process, its task and answer queues shared: two builds at once
#: (two readers of one web worker, two schedules of the worker) could swap charts, so they take turns
_ONE_BUILD_AT_A_TIME = threading.Lock()


@contextmanager
def exporter() -> Iterator[SvgExporter]:
    """A warm kaleido server for one build (stopped after it, unless one was already running); one
    build of this process at a time."""
    chromium_path()  # refuse early, with the fix, rather than inside kaleido's thread
    with _ONE_BUILD_AT_A_TIME, _warm_server():
        yield SvgExporter()


@contextmanager
def _warm_server() -> Iterator[None]:
    import kaleido

    started = False
    if hasattr(kaleido, "start_sync_server"):
        from kaleido import _sync_server

        if not _sync_server.GlobalKaleidoServer().is_running():
            kaleido.start_sync_server(n=1, silence_warnings=True)
            started = True
    try:
        yield
    finally:
        if started:
            kaleido.stop_sync_server(silence_warnings=True)
