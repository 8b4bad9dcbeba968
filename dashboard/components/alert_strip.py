"""Alert strip: open alerts in one line across the top of a screen (wall) or a page (desktop)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from dash import html


class AlertLike(Protocol):
    key: str
    kind: str
    message: str


def alert_strip(alerts: Sequence[AlertLike]) -> list[html.Span]:
    """The strip's children (empty list: the strip hides itself with CSS `:empty`)."""
    return [
        html.Span(alert.message, className=f"wall-alert wall-alert--{alert.kind}", **{"data-key": alert.key})
        for alert in alerts
    ]
