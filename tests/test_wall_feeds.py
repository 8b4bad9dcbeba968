"""Feeds of wall tickers and maps: newest first, no personal data, clustered when dense; the map
needs no tile server (plain plane, optional boundary GeoJSON)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import Engine

from dashboard.wall.figures import map_figure
from ioc.load import load_batch
from ioc.wall import feeds

ICT = timezone(timedelta(hours=7))
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=ICT)


def _incidents(count: int, *, severe_at: int | None = None) -> list[dict[str, object]]:
    return [
        {
            "external_id": f"PAHT-{i:05d}",
            "category": "field_report" if i % 2 else "infosec",
            "org_unit_code": None,
            "lat": 12.6 + (i % 10) * 0.001,  # ten points close together, repeated
            "lon": 108.0 + (i % 10) * 0.001,
            "reported_at": NOW - timedelta(minutes=i),
            "status": "open",
            "severity": 3 if i == severe_at else 1,
        }
        for i in range(count)
    ]


def test_latest_incidents_newest_first_filtered(db: Engine) -> None:
    with db.begin() as connection:
        load_batch(connection, "incident", _incidents(30, severe_at=4), source="t")
        items = feeds.latest_incidents(connection, area=None, category="infosec", limit=3)
        severe = feeds.latest_incidents(
            connection, since=NOW - timedelta(hours=1), area=None, category=None, min_severity=3, limit=5
        )
    assert [i.external_id for i in items] == ["PAHT-00000", "PAHT-00002", "PAHT-00004"]
    assert [i.external_id for i in severe] == ["PAHT-00004"]
    assert set(vars(items[0])) == {
        "external_id",
        "category",
        "service",
        "area",
        "severity",
        "status",
        "reported_at",
        "lat",
        "lon",
    }


def test_points_cluster_when_dense_and_the_map_draws_offline(db: Engine, tmp_path: Path) -> None:
    with db.begin() as connection:
        load_batch(connection, "incident", _incidents(400), source="t")
        single = feeds.incident_points(
            connection, now=NOW, days=7, area=None, category=None, cluster_above=500
        )
        grouped = feeds.incident_points(
            connection, now=NOW, days=7, area=None, category=None, cluster_above=100
        )
    assert len(single) == 400 and {p.count for p in single} == {1}
    assert sum(p.count for p in grouped) == 400 and len(grouped) < 10
    boundary = tmp_path / "province.geojson"
    ring = [[107.9, 12.5], [108.1, 12.5], [108.1, 12.7], [107.9, 12.7], [107.9, 12.5]]
    boundary.write_text(json.dumps({"type": "Polygon", "coordinates": [ring]}), encoding="utf-8")
    figure = map_figure(grouped, scale=1.0, boundary=boundary)
    layout = figure.to_plotly_json()["layout"]
    assert "mapbox" not in layout and "geo" not in layout and "map" not in layout  # no tiles, no internet
    assert figure.data[0].mode == "lines"  # the boundary first, under the points
    assert any(text for trace in figure.data[1:] for text in trace.text)  # clusters say their count
