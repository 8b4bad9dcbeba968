"""Open311 GeoReport v2 citizen reports → `incident` (protocols §5).

What the standard and its servers do, and how this connector copes:

* `start_date`/`end_date` filter on `requested_datetime` only and may not span more than 90 days,
  so "what changed since T" cannot be asked. Every run pulls an overlapping window of requests by
  `requested_datetime` (`window`, default 7 days, before the previous run's end; 90 days on the
  first or a full run), split into spans of at most `max_span_days`.
* Pagination (`page`, `page_size`) is an extension. It is used when `page_size` is set; a server
  that ignores it answers page 2 with page 1 again, which is noticed. Without pagination a server
  returns at most `max_results` (1000) requests: a span that comes back full is split in halves.
* Changes to older requests: with the mySociety `servicerequestupdates` extension (`updates`), the
  updates since the last run (minus `updates_overlap`) say which requests changed and their extended
  status; without it, the requests still open in our database (`context.state["open_incident_ids"]`,
  answered by the runner) are re-polled with `service_request_id=a,b,c`, in batches whose URLs stay
  under `max_url_length`.
* Ids are strings (`service_request_id` may arrive as a number); a request without an id (Chicago,
  while it is still being processed) is rejected with a reason, not loaded.
* Status: `open`/`closed`, plus FixMyStreet's extended statuses — `fixed`, `duplicate`,
  `not_councils_responsibility`, `no_further_action`, `internal_referral` and `closed` close a
  request; `status_detail` keeps the extended status. `closed_at` is the closing update's time or,
  for a request closed in `requests.json`, its `updated_datetime`. `due_at` is `expected_datetime`.
* `status_detail` and idempotence: when the server has the updates extension, a request seen only
  in `requests.json` (plain open/closed) is loaded *without* the `status_detail` column, so the
  extended status learnt from an earlier update is not overwritten by the plain one.
* Error bodies `[{code, description}]` (any 4xx, and 200 on some servers) become a
  :class:`~ioc.connector.SourceError` carrying the descriptions.
* Free text (`description`, `status_notes`, `address`, `media_url`) can carry citizens' personal
  data and is never kept, not even in rejected rows.

Categories: `categories` maps `service_code` → our category; `group_categories` maps the `group`
of `services.json` → category; otherwise `default_category`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal
from urllib.parse import quote

import pandas as pd
from pydantic import Field, field_validator

from connectors import values
from ioc.config import parse_duration, secret
from ioc.connector import Batch, CheckResult, Connector, ConnectorOptions, SourceError, drop_personal_fields

log = logging.getLogger(__name__)

LOCAL_TZ = "Asia/Ho_Chi_Minh"

#: FixMyStreet's statuses that close a request (protocols §5.5).
CLOSING_STATUSES = frozenset(
    {"closed", "fixed", "duplicate", "not_councils_responsibility", "no_further_action", "internal_referral"}
)
STANDARD_STATUSES = frozenset({"open", "closed"})

#: Fields of a request that may be kept in a rejected row (no free text: it can name citizens).
SAFE_FIELDS = (
    "service_request_id",
    "status",
    "service_code",
    "service_name",
    "agency_responsible",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "lat",
    "long",
)

_SPLIT_FLOOR = timedelta(hours=1)


class Open311Options(ConnectorOptions):
    endpoint: str = Field(description="GeoReport v2 base URL, e.g. https://city.example/open311/v2")
    jurisdiction_id: str | None = None
    api_key_env: str | None = None
    categories: dict[str, str] = Field(default_factory=dict, description="service_code → category")
    group_categories: dict[str, str] = Field(default_factory=dict, description="service group → category")
    default_category: str = "field_report"
    severities: dict[str, int] = Field(default_factory=dict, description="service_code → severity 1–3")
    org_unit_code: str | None = None
    window: str = "7d"
    initial_window: str = "90d"
    max_span_days: int = Field(default=90, ge=1, le=90)
    page_size: int | None = Field(default=200, ge=1)
    max_pages: int = Field(default=10_000, ge=1)
    max_results: int = Field(default=1000, ge=1)
    updates: Literal["auto", "yes", "no"] = "auto"
    updates_overlap: str = "1d"
    repoll_open: bool = True
    max_url_length: int = Field(default=1900, ge=200)
    batch_size: int = Field(default=5000, ge=1)

    @field_validator("window", "initial_window", "updates_overlap")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value


# --------------------------------------------------------------------------- values


def request_id(value: Any) -> str | None:
    """A `service_request_id` or `service_code` as a string (whole numbers accepted); None when there
    is none or the value cannot be an id (an object, NUL or control characters, a huge string)."""
    if isinstance(value, float):
        return str(int(value)) if math.isfinite(value) and value.is_integer() else None
    return values.code(value)


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def w3c(moment: datetime) -> str:
    """A W3C date-time in UTC, as GeoReport servers expect (`2025-07-14T00:00:00Z`)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_times(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """W3C date-times (`Z`, `+07:00`, `+0700`; naive = local time) → local timestamps, bad mask."""
    text = values.astype("string").str.strip()
    blank = text.isna() | text.eq("")
    zoned = text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True).fillna(False)
    out = pd.Series(pd.NaT, index=values.index, dtype=f"datetime64[us, {LOCAL_TZ}]")
    if (zoned & ~blank).any():
        got = pd.to_datetime(text[zoned & ~blank], utc=True, format="ISO8601", errors="coerce")
        out[got.index] = got.dt.tz_convert(LOCAL_TZ).astype(out.dtype)
    naive = ~zoned & ~blank
    if naive.any():
        got = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
        out[got.index] = got.dt.tz_localize(LOCAL_TZ, ambiguous="NaT", nonexistent="NaT").astype(out.dtype)
    return out, ~blank & out.isna()


def safe_request(record: Mapping[str, Any]) -> dict[str, Any]:
    """What a rejected request keeps: the allow-listed fields, each only as a short scalar."""
    kept = drop_personal_fields(record)
    out: dict[str, Any] = {}
    for key in SAFE_FIELDS:
        value = kept.get(key)
        if isinstance(value, str):
            out[key] = values.symbol(value, 100) or f"<text of {len(value)} characters>"
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = value if math.isfinite(value) and abs(value) < 1e15 else str(value)[:40]
        elif value is not None and key in kept:
            out[key] = f"<{type(value).__name__}>"
    return out


#: Times a report may carry: nothing before 1990, nothing later than now + this tolerance
#: (`expected_datetime`, a deadline, may lie further ahead).
FUTURE_TOLERANCE = timedelta(days=1)
DEADLINE_HORIZON = timedelta(days=730)
EARLIEST = pd.Timestamp("1990-01-01", tz=LOCAL_TZ)


def implausible(times: pd.Series, ahead: timedelta) -> pd.Series:
    """Times before 1990 or more than `ahead` after now (a report dated 2999, or year 1)."""
    latest = pd.Timestamp.now(tz=LOCAL_TZ) + ahead
    return times.notna() & ((times < EARLIEST) | (times > latest))


def spans(start: datetime, end: datetime, max_days: int) -> list[tuple[datetime, datetime]]:
    """[start, end) cut into consecutive spans of at most `max_days` days."""
    out, step = [], timedelta(days=max_days)
    while start < end:
        out.append((start, min(start + step, end)))
        start += step
    return out


def id_batches(ids: list[str], base_length: int, max_length: int) -> list[list[str]]:
    """Ids grouped so that `base + ",".join(ids)`, URL-encoded, stays within `max_length`."""
    batches: list[list[str]] = []
    current: list[str] = []
    length = base_length
    for one in ids:
        cost = len(quote(one, safe="")) + (3 if current else 0)  # "," is sent as %2C
        if current and length + cost > max_length:
            batches.append(current)
            current, length = [], base_length
            cost = len(quote(one, safe=""))
        current.append(one)
        length += cost
    if current:
        batches.append(current)
    return batches


def _is_error_list(payload: Any) -> bool:
    """An error body `[{code, description}]` — only those two keys, so that requests that lost their
    ids (and still carry citizens' descriptions) are never mistaken for errors and echoed."""
    return (
        isinstance(payload, list)
        and bool(payload)
        and all(isinstance(e, Mapping) and set(e) == {"code", "description"} for e in payload)
    )


def _error_text(payload: Any) -> str:
    return "; ".join(
        f"{values.clip(e.get('code', '?'))} {values.clip(e.get('description', ''), 200)}".strip()
        for e in payload[:5]
    )


def _unwrap(payload: Any, keys: tuple[str, ...]) -> Any:
    """The JSON rendering of the XML wrappers (`{"service_requests": {"request": [...]}}`) → a list."""
    for _ in range(2):
        if isinstance(payload, Mapping):
            for key in keys:
                if key in payload:
                    payload = payload[key]
                    break
            else:
                return payload
    if isinstance(payload, Mapping):  # a single XML element became an object
        return [payload]
    return payload


# --------------------------------------------------------------------------- the connector


class Open311Connector(Connector):
    """GeoReport v2 `services.json` and `requests.json`, plus `servicerequestupdates` when offered."""

    name = "open311"
    Options = Open311Options
    targets: ClassVar[tuple[str, ...]] = ("incident",)
    options: Open311Options

    def state_queries(self) -> tuple[str, ...]:
        return ("open_incident_ids",)

    # ----------------------------------------------------------------------- HTTP

    def _url(self, path: str) -> str:
        return f"{self.options.endpoint.rstrip('/')}/{path}"

    def _base_params(self) -> dict[str, str]:
        params: dict[str, str] = {}
        if self.options.jurisdiction_id:
            params["jurisdiction_id"] = self.options.jurisdiction_id
        if self.options.api_key_env:
            params["api_key"] = secret(self.options.api_key_env, purpose=f"source {self.context.source}")
        return params

    def _get_json(self, path: str, params: Mapping[str, Any], *, optional: bool = False) -> Any:
        """GET a JSON document; `optional` returns None on 404/501 (an extension the server lacks)."""
        url = self._url(path)
        response = self.context.http.get(url, params=dict(params))
        try:
            payload = response.json()
        except (ValueError, RecursionError):  # not JSON, or nested deeper than Python's stack
            payload = None
        # bodies are never echoed: a citizen's report may be in them
        shape = f"{response.headers.get('content-type', 'no content type')}, {len(response.content)} bytes"
        if response.status_code >= 400:
            if optional and response.status_code in (404, 501):
                return None
            detail = _error_text(payload) if _is_error_list(payload) else shape
            raise SourceError(f"GET {url}: HTTP {response.status_code}: {detail}")
        if payload is None and response.content.strip():
            raise SourceError(f"GET {url}: the answer is not JSON ({shape})")
        if _is_error_list(payload):
            raise SourceError(f"GET {url}: {_error_text(payload)}")
        return payload

    def _get_list(self, path: str, params: Mapping[str, Any], keys: tuple[str, ...]) -> list[Any]:
        payload = _unwrap(self._get_json(path, params), keys)
        if payload is None:
            return []
        if not isinstance(payload, list):
            raise SourceError(f"GET {self._url(path)}: expected a JSON array, got {type(payload).__name__}")
        return payload

    def _requests(self, params: Mapping[str, Any]) -> list[Any]:
        return self._get_list("requests.json", params, ("service_requests", "requests", "request"))

    # ----------------------------------------------------------------------- check

    def check(self) -> CheckResult:
        try:
            services = self._get_list("services.json", self._base_params(), ("services", "service"))
        except SourceError as exc:
            return CheckResult(False, str(exc))
        return CheckResult(True, f"{self.options.endpoint}: {len(services)} service(s)")

    def service_groups(self) -> dict[str, str]:
        services = self._get_list("services.json", self._base_params(), ("services", "service"))
        return {
            code: group
            for s in services
            if isinstance(s, Mapping)
            and (group := values.symbol(s.get("group"), values.MAX_TEXT))
            and (code := request_id(s.get("service_code")))
        }

    # ----------------------------------------------------------------------- read

    def read(self, cursor: Mapping[str, Any] | None, *, full: bool = False) -> Iterator[Batch]:
        o = self.options
        cursor = None if full else cursor
        now = datetime.now(UTC).replace(microsecond=0)
        if cursor and cursor.get("requested_until"):
            start = datetime.fromisoformat(cursor["requested_until"]) - parse_duration(o.window)
        else:
            start = now - parse_duration(o.initial_window)
        groups = self.service_groups() if o.group_categories else {}

        found: dict[str, Mapping[str, Any]] = {}
        rejects: list[tuple[dict[str, Any], str]] = []
        for span_start, span_end in spans(start, now, o.max_span_days):
            self._pull_window(span_start, span_end, found, rejects)

        updates = self._updates(cursor, start, now)
        if updates is not None:
            wanted = [i for i in updates if i not in found]
        elif o.repoll_open:
            wanted = [str(i) for i in self.context.state.get("open_incident_ids", ()) if str(i) not in found]
        else:
            wanted = []
        self._pull_ids(wanted, found, rejects)

        rows, more_rejects = self.to_rows(list(found.values()), updates, groups)
        rejects += more_rejects
        next_cursor = {
            "requested_until": now.isoformat(),
            "updates_until": now.isoformat() if updates is not None else None,
        }
        yield from self._batches(rows, rejects, next_cursor)

    def _pull_window(
        self,
        start: datetime,
        end: datetime,
        found: dict[str, Mapping[str, Any]],
        rejects: list[tuple[dict[str, Any], str]],
    ) -> None:
        o = self.options
        params: dict[str, Any] = {**self._base_params(), "start_date": w3c(start), "end_date": w3c(end)}
        got: list[Any] = []
        seen: set[str] = set()
        paginates = o.page_size is not None
        page = 1
        while True:
            if o.page_size is not None:
                params.update(page=page, page_size=o.page_size)
            items = self._requests(params)
            ids = {request_id(r.get("service_request_id")) for r in items if isinstance(r, Mapping)} - {None}
            if page > 1 and ids and ids <= seen:
                paginates = False  # the server ignores `page`: this is page 1 again
                break
            seen |= ids  # type: ignore[arg-type]
            got.extend(items)
            if o.page_size is None or len(items) < o.page_size:
                break
            page += 1
            if page > o.max_pages:
                raise SourceError(f"{self._url('requests.json')}: more than max_pages={o.max_pages} pages")
        truncated = not paginates and len(got) >= o.max_results
        if truncated and end - start > _SPLIT_FLOOR:
            middle = start + (end - start) / 2
            log.info("%s: %d requests in %s–%s; splitting the window", o.endpoint, len(got), start, end)
            self._pull_window(start, middle, found, rejects)
            self._pull_window(middle, end, found, rejects)
            return
        self._collect(got, found, rejects)

    def _collect(
        self, items: list[Any], found: dict[str, Mapping[str, Any]], rejects: list[tuple[dict[str, Any], str]]
    ) -> None:
        for item in items:
            if not isinstance(item, Mapping):
                # never the item itself: a bare string in the list may be a citizen's text
                kept = {"item": f"<{type(item).__name__}>"}
                rejects.append((kept, "not a request (expected a JSON object)"))
                continue
            raw_id = item.get("service_request_id")
            rid = request_id(raw_id)
            if rid is None:
                reason = (
                    "service_request_id: not an id (a short printable text or a whole number)"
                    if _present(raw_id)
                    else "service_request_id: missing (the request may still be processing)"
                )
                rejects.append((safe_request(item), reason))
                continue
            found[rid] = item

    def _pull_ids(
        self, ids: list[str], found: dict[str, Mapping[str, Any]], rejects: list[tuple[dict[str, Any], str]]
    ) -> None:
        if not ids:
            return
        params = self._base_params()
        base = len(self._url("requests.json")) + len("?service_request_id=")
        base += sum(len(k) + len(quote(str(v), safe="")) + 2 for k, v in params.items())
        for batch in id_batches(ids, base, self.options.max_url_length):
            self._collect(self._requests({**params, "service_request_id": ",".join(batch)}), found, rejects)

    def _updates(
        self, cursor: Mapping[str, Any] | None, window_start: datetime, now: datetime
    ) -> dict[str, tuple[str, pd.Timestamp]] | None:
        """Latest (status, time) per request id from `servicerequestupdates`; None when not offered."""
        o = self.options
        if o.updates == "no":
            return None
        if cursor and cursor.get("updates_until"):
            start = datetime.fromisoformat(cursor["updates_until"]) - parse_duration(o.updates_overlap)
        else:
            start = window_start
        items: list[Any] = []
        for span_start, span_end in spans(start, now, o.max_span_days):
            params = {**self._base_params(), "start_date": w3c(span_start), "end_date": w3c(span_end)}
            payload = self._get_json("servicerequestupdates.json", params, optional=o.updates == "auto")
            if payload is None and o.updates == "auto":
                log.info("%s: no servicerequestupdates extension; re-polling open requests", o.endpoint)
                return None
            payload = _unwrap(payload, ("service_request_updates", "request_updates", "request_update"))
            if not isinstance(payload, list):
                raise SourceError(f"{self._url('servicerequestupdates.json')}: expected a JSON array")
            items.extend(u for u in payload if isinstance(u, Mapping))
        if not items:
            return {}
        frame = pd.DataFrame(
            {
                "id": [request_id(u.get("service_request_id")) for u in items],
                "status": [(values.symbol(u.get("status")) or "").lower() for u in items],
                "order": range(len(items)),
            }
        )
        frame["at"], bad = parse_times(pd.Series([u.get("updated_datetime") for u in items], dtype=object))
        bad |= implausible(frame["at"], FUTURE_TOLERANCE)
        frame = frame[frame["id"].notna() & (frame["status"] != "") & ~bad & frame["at"].notna()]
        latest = frame.sort_values(["at", "order"]).drop_duplicates("id", keep="last")
        return {i: (s, t) for i, s, t in zip(latest["id"], latest["status"], latest["at"], strict=True)}

    # ----------------------------------------------------------------------- rows

    def to_rows(
        self,
        items: list[Mapping[str, Any]],
        updates: Mapping[str, tuple[str, pd.Timestamp]] | None,
        groups: Mapping[str, str] | None = None,
    ) -> tuple[pd.DataFrame, list[tuple[dict[str, Any], str]]]:
        """Requests (with ids) → incident rows, merging the latest update of each; plus rejects.

        The frame has a boolean `_detail` column: whether the row sets `status_detail`.
        """
        o = self.options
        groups = groups or {}
        if not items:
            return pd.DataFrame(), []
        raw = pd.DataFrame.from_records(
            [
                {
                    "external_id": request_id(r.get("service_request_id")),
                    "service_code": request_id(r.get("service_code")),
                    "bad_code": _present(r.get("service_code")) and request_id(r.get("service_code")) is None,
                    "status_raw": values.symbol(r.get("status")),
                    "bad_status": _present(r.get("status")) and values.symbol(r.get("status")) is None,
                    "requested": r.get("requested_datetime"),
                    "updated": r.get("updated_datetime"),
                    "expected": r.get("expected_datetime"),
                    "lat": r.get("lat"),
                    "lon": r.get("long", r.get("lon")),
                }
                for r in items
            ]
        )
        reasons = pd.Series("", index=raw.index, dtype=object)

        def add(mask: pd.Series, reason: str) -> None:
            mask = mask.fillna(False).astype(bool)
            if mask.any():
                reasons[mask] = reasons[mask] + "; " + reason

        out = pd.DataFrame({"external_id": raw["external_id"].astype("string")})
        code = raw["service_code"].astype("string")
        out["service_code"] = code
        category = code.map(o.categories.get, na_action="ignore")
        if o.group_categories:
            by_group = code.map(lambda c: o.group_categories.get(groups.get(c, "")), na_action="ignore")
            category = category.fillna(by_group)
        out["category"] = category.fillna(o.default_category).astype("string")
        if o.severities:
            out["severity"] = code.map(o.severities.get, na_action="ignore").astype("Int64")
        if o.org_unit_code:
            out["org_unit_code"] = o.org_unit_code
        for column, label in (("lat", "lat"), ("lon", "long")):
            numbers = pd.to_numeric(raw[column].astype("string").str.strip(), errors="coerce")
            out[column] = numbers
            add(
                raw[column].notna() & numbers.isna() & raw[column].astype("string").str.strip().ne(""),
                f"{label}: not a number",
            )
        add(raw["bad_code"], "service_code: not a code (a short printable text)")
        reported, bad = parse_times(raw["requested"])
        add(reported.isna() & ~bad, "requested_datetime: missing")
        add(bad, "requested_datetime: not a W3C date-time")
        out["reported_at"] = reported
        updated, bad = parse_times(raw["updated"])
        add(bad, "updated_datetime: not a W3C date-time")
        due, bad = parse_times(raw["expected"])
        add(bad, "expected_datetime: not a W3C date-time")
        out["due_at"] = due
        for name, times, ahead in (
            ("requested_datetime", reported, FUTURE_TOLERANCE),
            ("updated_datetime", updated, FUTURE_TOLERANCE),
            ("expected_datetime", due, DEADLINE_HORIZON),
        ):
            add(implausible(times, ahead), f"{name}: before 1990 or too far in the future")

        status_raw = raw["status_raw"].astype("string").str.strip().str.lower()
        add(raw["bad_status"], "status: not a status (a short printable text)")
        add((status_raw.isna() | status_raw.eq("")) & ~raw["bad_status"], "status: missing")
        closed = status_raw.isin(CLOSING_STATUSES).fillna(False)
        out["status"] = closed.map({True: "closed", False: "open"}).astype("string")
        out["closed_at"] = updated.where(closed)
        nonstandard = ~status_raw.isin(STANDARD_STATUSES).fillna(True)
        out["status_detail"] = status_raw
        out["_detail"] = nonstandard | (updates is None)

        if updates:
            ids = out["external_id"]
            has = ids.isin(list(updates.keys())).fillna(False)
            if has.any():
                u_status = ids[has].map(lambda i: updates[i][0])
                u_time = pd.Series(
                    [updates[i][1] for i in ids[has]], index=ids[has].index, dtype=out["due_at"].dtype
                )
                newer = updated[has].isna() | (u_time >= updated[has])
                take = newer[newer].index
                u_closed = u_status[take].isin(CLOSING_STATUSES)
                out.loc[take, "status"] = u_closed.map({True: "closed", False: "open"}).astype("string")
                out.loc[take, "status_detail"] = u_status[take].astype("string")
                out.loc[take, "closed_at"] = u_time[take].where(u_closed)
                out.loc[has, "_detail"] = True

        reasons = reasons.str.removeprefix("; ")
        bad_rows = reasons != ""
        rejects = [(safe_request(items[i]), reasons[i]) for i in bad_rows[bad_rows].index.tolist()]
        return out[~bad_rows].drop_duplicates("external_id", keep="last").reset_index(drop=True), rejects

    def _batches(
        self, rows: pd.DataFrame, rejects: list[tuple[dict[str, Any], str]], cursor: dict[str, Any]
    ) -> Iterator[Batch]:
        parts: list[pd.DataFrame] = []
        if not rows.empty:
            detail = rows["_detail"].astype(bool)
            parts = [
                rows[detail].drop(columns="_detail"),
                rows[~detail].drop(columns=["_detail", "status_detail"]),
            ]
        chunks = [
            part.iloc[i : i + self.options.batch_size]
            for part in parts
            if not part.empty
            for i in range(0, len(part), self.options.batch_size)
        ]
        if not chunks:
            yield Batch("incident", [], cursor=cursor, rejects=rejects, description="no requests")
            return
        for n, chunk in enumerate(chunks):
            last = n == len(chunks) - 1
            yield Batch(
                "incident",
                chunk.reset_index(drop=True),
                cursor=cursor if last else None,
                rejects=rejects if n == 0 else [],
                description=f"requests {n + 1}/{len(chunks)}",
            )
