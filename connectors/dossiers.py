"""Public-service dossiers in the national DVCQG record shape, from a paged HTTP endpoint and/or files.

No public pull API exists for dossier status (protocols §7): a province exposes its one-stop
system's records through an adapter, or drops exports in a folder. Both speak DVCQG field names
(`MaHoSo`, `MaTTHC`, `NgayTiepNhan`, …); `field_map` renames other names (dotted paths allowed,
e.g. iGate's `nationCode` → `MaHoSo`, `acceptedDate` → `NgayTiepNhan`).

HTTP (`url`): `GET url?{params}&{page_param}=N&{page_size_param}=S` from `first_page` until a page
is short, empty, says `last: true`, or repeats the previous page (a server ignoring the page
parameter). The records are at `records_path` (dotted; `""` for a top-level list; `content` for a
Spring page; `result` for the DVCQG envelope). A DVCQG envelope's `error_code` other than 0 / "0"
is a source error carrying its `message`. The bearer token comes from the environment variable
named by `token_env`. Incremental: the cursor keeps the latest change seen (`updated_field` of the
records, else the newest of received / finished / returned); the next run asks `since_param` for
changes since that time minus `overlap`. Without `since_param` every run pulls everything (the
upsert makes that harmless).

Folder (`folder`, default `<drop_dir>/<source>/` when no `url` is set; `drop: true` reads it as well
as the URL): `.json` (a list or `{"data": [...]}`), `.csv`, `.xlsx`; see :mod:`connectors.drop` for the
folder's rules (regular files only, limits, `done/` / `failed/`, retention).

Personal fields are dropped before anything leaves the connector, rejects included.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

import pandas as pd
from pydantic import Field, field_validator

from connectors.drop import (
    BrokenFile,
    DropFile,
    DropOptions,
    Rejects,
    drop_folder,
    pending_files,
    read_drop_folder,
    read_json_records,
    table_chunks,
)
from connectors.dvcqg import (
    CODE,
    SAFE_FIELDS,
    DossierMapping,
    latest_change,
    parse_dates,
    parse_frame,
    parse_records,
)
from ioc.config import parse_duration, secret
from ioc.connector import Batch, CheckResult, Connector, SourceError

log = logging.getLogger(__name__)

DROP_SUFFIXES = (".json", ".csv", ".xlsx", ".xlsm")
LOCAL_TZ = "Asia/Ho_Chi_Minh"


class DossiersOptions(DropOptions):
    url: str | None = None
    records_path: str = "data"
    page_param: str = "page"
    page_size_param: str = "size"
    page_size: int = Field(default=500, ge=1, le=100_000)
    first_page: int = Field(default=1, ge=0)
    max_pages: int = Field(default=100_000, ge=1)
    params: dict[str, str] = Field(default_factory=dict)
    token_env: str | None = None
    auth_header: str = "Authorization"
    auth_scheme: str = "Bearer"
    since_param: str | None = None
    since_format: Literal["dvcqg", "iso"] = "dvcqg"
    updated_field: str | None = None
    overlap: str = "2d"
    field_map: dict[str, str] = Field(default_factory=dict, description="source field (dotted) → DVCQG name")
    drop: bool | None = Field(default=None, description="read the drop folder (default: when no url)")
    department_codes: dict[str, str] = Field(default_factory=dict, description="DonViXuLy → department")
    org_unit_codes: dict[str, str] = Field(default_factory=dict, description="department → org unit")
    unknown_channel: Literal["reject", "null"] = "reject"

    @field_validator("overlap")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value


def dig(payload: Any, path: str) -> Any:
    """`payload` at a dotted path (`""` is the payload itself); None when a step is missing."""
    for step in filter(None, path.split(".")):
        if not isinstance(payload, Mapping):
            return None
        payload = payload.get(step)
    return payload


class DossiersConnector(Connector):
    """DVCQG dossier records from a paged JSON endpoint and files dropped in a folder."""

    name = "dossiers"
    Options = DossiersOptions
    targets: ClassVar[tuple[str, ...]] = ("dossier",)
    reject_fields: ClassVar[frozenset[str]] = frozenset((*SAFE_FIELDS, "SoLanBoSung"))
    options: DossiersOptions

    @property
    def mapping(self) -> DossierMapping:
        o = self.options
        return DossierMapping(o.department_codes, o.org_unit_codes, o.unknown_channel)

    @property
    def folder(self) -> Path:
        return drop_folder(self.context.settings.drop_dir, self.context.source, self.options.folder)

    @property
    def reads_folder(self) -> bool:
        return self.options.drop if self.options.drop is not None else self.options.url is None

    # ----------------------------------------------------------------------- check

    def check(self) -> CheckResult:
        messages = []
        if self.options.url:
            try:
                records, _ = self._page(self.options.first_page, {}, page_size=1)
            except SourceError as exc:
                return CheckResult(False, str(exc))
            messages.append(f"{self.options.url}: answers ({len(records)} record(s) on a 1-record page)")
        if self.reads_folder:
            if not self.folder.is_dir():
                return CheckResult(False, f"drop folder {self.folder} does not exist")
            waiting = len(pending_files(self.folder, DROP_SUFFIXES))
            messages.append(f"{self.folder}: {waiting} file(s) waiting")
        return CheckResult(True, "; ".join(messages))

    # ----------------------------------------------------------------------- read

    def read(self, cursor: Mapping[str, Any] | None, *, full: bool = False) -> Iterator[Batch]:
        if self.options.url:
            yield from self._read_http(None if full else cursor)
        if self.reads_folder:
            yield from read_drop_folder(
                self.folder, self.options, DROP_SUFFIXES, "dossier", self._file_batches
            )

    # ----------------------------------------------------------------------- HTTP

    def _headers(self) -> dict[str, str]:
        if not self.options.token_env:
            return {}
        token = secret(self.options.token_env, purpose=f"source {self.context.source}")
        return {self.options.auth_header: f"{self.options.auth_scheme} {token}".strip()}

    def _page(
        self, page: int, params: Mapping[str, str], *, page_size: int | None = None
    ) -> tuple[list[Any], Any]:
        o = self.options
        query = {**o.params, **params, o.page_param: page, o.page_size_param: page_size or o.page_size}
        assert o.url is not None
        response = self.context.http.get(o.url, params=query, headers=self._headers())
        where = f"GET {o.url} page {page}"
        if response.status_code >= 400:
            raise SourceError(f"{where}: HTTP {response.status_code}: {response.text[:200]}")
        try:
            payload = response.json()
        except ValueError as exc:
            raise SourceError(f"{where}: not JSON ({exc})") from None
        if isinstance(payload, Mapping) and "error_code" in payload and str(payload["error_code"]) != "0":
            raise SourceError(f"{where}: error {payload['error_code']}: {payload.get('message', '')}")
        records = dig(payload, o.records_path)
        if records is None and isinstance(payload, Mapping) and not payload.get(o.records_path):
            records = []  # e.g. DVCQG `{"error_code": 0, "result": null}`: nothing on this page
        if not isinstance(records, list):
            raise SourceError(f"{where}: no list of records at {o.records_path!r}")
        return records, payload

    def _since(self, cursor: Mapping[str, Any] | None) -> pd.Timestamp | None:
        if not cursor or not cursor.get("updated_until"):
            return None
        return pd.Timestamp(cursor["updated_until"]).tz_convert(LOCAL_TZ)

    def _read_http(self, cursor: Mapping[str, Any] | None) -> Iterator[Batch]:
        o = self.options
        latest = self._since(cursor)
        params: dict[str, str] = {}
        if latest is not None and o.since_param:
            since = latest - parse_duration(o.overlap)
            params[o.since_param] = (
                since.strftime("%Y%m%d%H%M%S") if o.since_format == "dvcqg" else since.isoformat()
            )
        previous: tuple[Any, ...] | None = None
        page = o.first_page
        for _ in range(o.max_pages):
            records, payload = self._page(page, params)
            signature = _signature(records)
            if records and signature == previous:
                log.warning("%s: page %d repeats the previous page; stopping", o.url, page)
                yield Batch("dossier", [], cursor=_cursor(latest), description=f"page {page} (repeat)")
                return
            previous = signature
            rows, rejects = self._parse(records)
            latest = _max_stamp(latest, self._changed(records, rows))
            last = len(records) < o.page_size or (
                isinstance(payload, Mapping) and payload.get("last") is True
            )
            yield Batch(
                "dossier",
                rows,
                cursor=_cursor(latest) if last else None,
                rejects=rejects,
                description=f"page {page}",
            )
            if last:
                return
            page += 1
        raise SourceError(f"{o.url}: more than max_pages={o.max_pages} pages")

    def _parse(self, records: list[Any]) -> tuple[pd.DataFrame, list[tuple[dict[str, Any], str]]]:
        if self.options.field_map:
            records = [_renamed(r, self.options.field_map) if isinstance(r, Mapping) else r for r in records]
        return parse_records(records, self.mapping)

    def _changed(self, records: list[Any], rows: pd.DataFrame) -> pd.Timestamp | None:
        field = self.options.updated_field
        if field:
            values = pd.Series(
                [dig(r, field) if isinstance(r, Mapping) else None for r in records], dtype=object
            )
            stamps, _ = parse_dates(values)
            newest = stamps.max()
            return None if pd.isna(newest) else newest
        return latest_change(rows)

    # ----------------------------------------------------------------------- folder

    def _file_batches(self, drop: DropFile) -> Iterator[tuple[pd.DataFrame, Rejects]]:
        if drop.suffix == ".json":
            records = read_json_records(drop)
            if records and not any(isinstance(r, Mapping) for r in records):
                raise BrokenFile("the JSON list holds no records (objects)")
            for start in range(0, max(len(records), 1), self.options.chunk_rows):
                yield self._parse(records[start : start + self.options.chunk_rows])
            return
        for chunk in table_chunks(
            drop, sheet=self.options.sheet, header_hint=self._has_code, chunk_rows=self.options.chunk_rows
        ):
            frame = chunk.rename(columns=lambda c: self.options.field_map.get(str(c).strip(), str(c).strip()))
            if not self._has_code([str(c).lower() for c in frame.columns]):
                raise BrokenFile(f"no {CODE} column (the file has {len(chunk.columns)} other column(s))")
            yield parse_frame(frame, self.mapping)

    def _has_code(self, headers: list[str]) -> bool:
        names = {CODE.lower(), *(k.lower() for k, v in self.options.field_map.items() if v == CODE)}
        return any(h in names for h in headers)


def _renamed(record: Mapping[str, Any], field_map: Mapping[str, str]) -> dict[str, Any]:
    out = dict(record)
    for source, target in field_map.items():
        out[target] = dig(record, source)
        out.pop(source.split(".")[0], None)
    return out


def _signature(records: list[Any]) -> tuple[Any, ...]:
    def key(record: Any) -> Any:
        return record.get(CODE, str(record)) if isinstance(record, Mapping) else str(record)

    return (len(records), key(records[0]), key(records[-1])) if records else ()


def _max_stamp(a: pd.Timestamp | None, b: pd.Timestamp | None) -> pd.Timestamp | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _cursor(latest: pd.Timestamp | datetime | None) -> dict[str, Any] | None:
    if latest is None:
        return None
    return {"updated_until": pd.Timestamp(latest).isoformat()}
