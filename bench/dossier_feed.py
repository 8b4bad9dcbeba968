"""A province's one-stop system as the `dossiers` connector meets it: a paged DVCQG-shaped HTTP adapter
on loopback whose dossiers keep arriving (the load test's worker pulls a batch from it every minute).

Records are made as time passes, `per_minute` of them: each is received "now" and, for most, finished
a little later; `GET /dossiers?since=yyyyMMddHHmmss&page=N&size=S` returns those that changed at or
after `since`, oldest change first. Codes start with `LOAD-` so that the load test can delete them.
No personal fields: the connector drops them anyway, and a bench has no business making them.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.loopback import LoopbackServer, Reply, Request

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
PREFIX = "LOAD-"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(ZONE).strftime("%Y%m%d%H%M%S")


@dataclass
class DossierFeed:
    """The adapter's state: records by code, each with the time it last changed."""

    procedures: list[tuple[str, str]]  # (procedure code, department code)
    per_minute: int = 600
    seed: int = 7
    _records: dict[str, tuple[datetime, dict[str, object]]] = field(default_factory=dict)
    _open: list[str] = field(default_factory=list)
    _made_until: datetime | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def advance(self, now: datetime) -> None:
        """Make the records that arrived since the last call, and finish some open ones."""
        with self._lock:
            since = self._made_until or now
            due = int((now - since).total_seconds() * self.per_minute / 60)
            for _ in range(due):
                self._receive(since + (now - since) * self._rng.random())
            for _ in range(min(len(self._open), due * 9 // 10)):
                code = self._open.pop(self._rng.randrange(len(self._open)))
                record = dict(self._records[code][1], NgayKetThucXuLy=_stamp(now), TrangThaiHoSo="10")
                self._records[code] = (now, record)
            if due or self._made_until is None:
                self._made_until = now

    def _receive(self, at: datetime) -> None:
        procedure, department = self._rng.choice(self.procedures)
        code = f"{PREFIX}{len(self._records) + 1:08d}"
        record: dict[str, object] = {
            "MaHoSo": code,
            "MaTTHC": procedure,
            "DonViXuLy": department,
            "NgayTiepNhan": _stamp(at),
            "NgayHenTra": _stamp(at + timedelta(days=self._rng.choice((1, 3, 5, 10)))),
            "NgayKetThucXuLy": "",
            "TrangThaiHoSo": "4",
            "KenhThucHien": self._rng.choice(("1", "2", "2", "3")),
            "DanhSachHoSoBoSung": [],
        }
        self._records[code] = (at, record)
        self._open.append(code)

    def page(self, request: Request) -> Reply:
        now = datetime.now(ZONE)
        self.advance(now)
        since_text = request.arg("since")
        since = datetime.strptime(since_text, "%Y%m%d%H%M%S").replace(tzinfo=ZONE) if since_text else None
        number, size = int(request.arg("page", "1") or 1), int(request.arg("size", "500") or 500)
        with self._lock:
            changed = sorted(
                (item for item in self._records.values() if since is None or item[0] >= since),
                key=lambda item: item[0],
            )
        chunk = [record for _, record in changed[(number - 1) * size : number * size]]
        return Reply.json({"error_code": 0, "data": chunk})

    @property
    def made(self) -> int:
        return len(self._records)


def serve(feed: DossierFeed) -> LoopbackServer:
    """The adapter on 127.0.0.1 (use as a context manager; `server.url('/dossiers')`)."""
    server = LoopbackServer()
    server.route("GET", "/dossiers", feed.page)
    return server
