"""PxWeb connector (API v1, and v2 where a server offers it) → `indicator_observation`.

One run: read the server's limits (`?config` / `/config`), the table's vintage (v1: the `updated`
of the table in its folder listing; v2: `GET /tables/{id}`) and skip the download when the vintage
and the options are the same as last time (unless `full`). Otherwise read the table metadata, build
the selection from the options, split it so that no query asks for more than `maxValues` cells,
POST each part asking for `json-stat2`, and map the cells to our indicator / area / period.

Decisions worth knowing:

* Value codes are mapped through the metadata on **every** run, matching the option keys against
  value texts first and codes second: GSO's codes are positions (`"0"`, `"13"`) that shift when a
  table gains rows, its texts (`"Hà Nội"`, `"Sơ bộ 2024"`) do not. Texts are compared after Unicode
  NFC normalisation, case folding and whitespace collapsing.
* `-` (PX `DATASYMBOLNIL`, "magnitude zero") is stored as value 0 with status `-`; every other
  symbol (`..`, `...`) keeps value NULL with the symbol as status. A missing value is never 0.
* A period text like `Sơ bộ 2024` gives status `provisional` (`Ước tính …`: `estimated`) unless the
  cell has a symbol of its own.
* Unit: `units` (per indicator) or `unit` from the options; otherwise the table's own
  `category.unit` (`label`, else PxWeb's `base`) of whichever dimension carries it — usually the
  contents variable (`ContentsCode`, `role.metric`), not necessarily the indicator's dimension.
* Variables that are neither indicator, area nor time must resolve to one value (from `selections`,
  or because they have one value), or be left out when the table allows elimination.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import unicodedata
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal
from urllib.parse import quote

import httpx
import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from connectors import jsonstat, values
from connectors.periods import PeriodParser, unrecognised
from connectors.stat_options import StatisticsOptions
from ioc.connector import Batch, CheckResult, Connector, SourceError
from ioc.http import json_body

log = logging.getLogger(__name__)

TARGET = "indicator_observation"
DEFAULT_MAX_VALUES = 100_000


class PxWebOptions(StatisticsOptions):
    base_url: str = Field(description="API root, e.g. https://pxweb.gso.gov.vn/pxweb/api/v1 or …/api/v2")
    api: Literal["v1", "v2"] = "v1"
    language: str = "vi"
    table: str = Field(
        description="v1: database/levels…/table path (e.g. 'Dân số và lao động/V02.01.px'); v2: id"
    )
    indicator_dimension: str | None = None
    indicators: dict[str, str] = Field(default_factory=dict, description="value text or code → indicator")
    indicator: str | None = Field(default=None, description="fixed indicator when there is no dimension")
    area_dimension: str | None = None
    areas: dict[str, str] = Field(default_factory=dict, description="value text or code → org_unit code")
    org_unit: str | None = Field(default=None, description="fixed org unit (default: the province)")
    time_dimension: str | None = Field(default=None, description="default: the variable marked as time")
    time_values: list[str] | None = Field(default=None, description="periods to ask for (texts or codes)")
    time_last: int | None = Field(default=None, ge=1, description="only the last N periods")
    selections: dict[str, list[str]] = Field(default_factory=dict, description="other variables → one value")
    unit: str | None = None
    units: dict[str, str] = Field(default_factory=dict, description="indicator → unit")
    nil_symbols: list[str] = Field(default_factory=lambda: ["-"])
    max_values: int | None = Field(default=None, ge=1, description="override the server's maxValues")

    @model_validator(mode="after")
    def _roles(self) -> PxWebOptions:
        if (self.indicator_dimension is None) == (self.indicator is None):
            raise ValueError("give exactly one of `indicator_dimension` (with `indicators`) or `indicator`")
        if self.indicator_dimension and not self.indicators:
            raise ValueError("`indicators` must map the values of `indicator_dimension` to indicator codes")
        if self.area_dimension and not self.areas:
            raise ValueError("`areas` must map the values of `area_dimension` to org_unit codes")
        if self.area_dimension and self.org_unit:
            raise ValueError("give `area_dimension` or `org_unit`, not both")
        return self


def normalise_text(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", str(text)).casefold().split())


@dataclass(frozen=True)
class Variable:
    code: str
    text: str
    values: tuple[str, ...]
    texts: tuple[str, ...]
    elimination: bool = False
    time: bool = False

    def match(self, keys: Sequence[str]) -> dict[str, str]:
        """{option key: value code}: each key matched against texts first, then codes."""
        by_text = {normalise_text(t): c for c, t in zip(self.values, self.texts, strict=True)}
        found = {}
        for key in keys:
            code = by_text.get(normalise_text(key))
            if code is None and key in self.values:
                code = key
            if code is not None:
                found[key] = code
        return found


@dataclass(frozen=True)
class Limits:
    max_values: int
    max_calls: int | None = None
    window: float | None = None


@dataclass(frozen=True)
class Plan:
    """What to ask for, and how to read the answer back."""

    selection: tuple[tuple[str, tuple[str, ...]], ...]
    indicator_of: Mapping[str, str]
    area_of: Mapping[str, str]
    time_var: str
    unmatched: tuple[str, ...]


class _Throttle:
    """At most `max_calls` calls per `window` seconds (the server's published rate limit)."""

    def __init__(self, limits: Limits, sleep: Any) -> None:
        self.max_calls, self.window, self.sleep = limits.max_calls, limits.window, sleep
        self.calls: deque[float] = deque()

    def wait(self) -> None:
        if not self.max_calls or not self.window:
            return
        now = time.monotonic()
        while self.calls and now - self.calls[0] > self.window:
            self.calls.popleft()
        if len(self.calls) >= self.max_calls:
            self.sleep(max(0.0, self.window - (now - self.calls[0])))
        self.calls.append(time.monotonic())


def split_selection(
    selection: Sequence[tuple[str, Sequence[str]]], max_cells: int
) -> list[list[tuple[str, list[str]]]]:
    """Split a selection into parts of at most `max_cells` cells each; every cell in exactly one part."""
    parts = [(code, list(values)) for code, values in selection]
    sizes = [len(v) for _, v in parts]
    total = int(np.prod(sizes, dtype=np.int64)) if sizes else 1
    if total <= max_cells or not parts:
        return [parts]
    axis = int(np.argmax(sizes))
    others = total // sizes[axis]
    code, values = parts[axis]
    if others <= max_cells:
        step = max(1, max_cells // others)
        chunks = [values[i : i + step] for i in range(0, len(values), step)]
        return [[*parts[:axis], (code, chunk), *parts[axis + 1 :]] for chunk in chunks]
    out: list[list[tuple[str, list[str]]]] = []
    for value in values:
        out += split_selection([*parts[:axis], (code, [value]), *parts[axis + 1 :]], max_cells)
    return out


def _problem(response: httpx.Response) -> str:
    """A readable error from a 4xx: RFC 7807 problem+json (v2), else the body's start."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].replace("\n", " ").strip()
    if isinstance(body, Mapping) and ("title" in body or "detail" in body):
        return "; ".join(str(body[k]) for k in ("title", "detail") if body.get(k))
    return json.dumps(body, ensure_ascii=False)[:200]


class PxWebConnector(Connector):
    name: ClassVar[str] = "pxweb"
    Options = PxWebOptions
    targets: ClassVar[tuple[str, ...]] = (TARGET,)
    options: PxWebOptions

    # ------------------------------------------------------------------ URLs

    @property
    def _v2(self) -> bool:
        return self.options.api == "v2"

    def _segments(self) -> list[str]:
        return [
            quote(unicodedata.normalize("NFC", s), safe="") for s in self.options.table.strip("/").split("/")
        ]

    def table_url(self) -> str:
        o = self.options
        if self._v2:
            return f"{o.base_url}/tables/{quote(o.table, safe='')}"
        return f"{o.base_url}/{quote(o.language, safe='')}/{'/'.join(self._segments())}"

    # ------------------------------------------------------------------ HTTP

    def _get_json(self, url: str, what: str, **params: Any) -> Any:
        response = self.context.http.get(url, params=params or None)
        if response.status_code >= 400:
            raise SourceError(
                f"GET {response.url}: {what}: HTTP {response.status_code}: {_problem(response)}"
            )
        return json_body(response, what)

    def limits(self) -> Limits:
        o = self.options
        url = f"{o.base_url}/config" if self._v2 else f"{o.base_url}/{quote(o.language, safe='')}"
        response = self.context.http.get(url, params=None if self._v2 else {"config": ""})
        config: Mapping[str, Any] = {}
        if response.status_code < 400:
            body = json_body(response, "the API config")
            config = body if isinstance(body, Mapping) else {}
        else:
            log.warning(
                "%s: no config (HTTP %s); assuming maxValues %d",
                url,
                response.status_code,
                DEFAULT_MAX_VALUES,
            )
        server_max = config.get("maxDataCells" if self._v2 else "maxValues")
        calls = config.get("maxCallsPerTimeWindow" if self._v2 else "maxCalls")
        window = config.get("timeWindow")
        seconds = _positive_int(window)
        return Limits(
            max_values=o.max_values or _positive_int(server_max) or DEFAULT_MAX_VALUES,
            max_calls=_positive_int(calls),
            window=float(seconds) if seconds else None,
        )

    def metadata(self) -> tuple[Variable, ...]:
        """The table's variables; v2 metadata is a JSON-stat dataset with `value: []`."""
        url = self.table_url() + ("/metadata" if self._v2 else "")
        params = {"lang": self.options.language} if self._v2 else {}
        body = self._get_json(url, "table metadata", **params)
        try:
            return _variables_v2(body) if self._v2 else _variables_v1(body)
        except (jsonstat.JsonStatError, KeyError, TypeError, ValueError) as exc:
            raise SourceError(f"GET {url}: table metadata has an unexpected shape: {exc}") from None

    def table_updated(self) -> str | None:
        """The table's last-updated stamp without downloading data (None when not offered)."""
        o = self.options
        name = o.table.strip("/").split("/")[-1]
        if self._v2:
            url, params = self.table_url(), {"lang": o.language}
        else:
            segments = self._segments()
            if len(segments) < 2:
                return None
            url, params = f"{o.base_url}/{quote(o.language, safe='')}/{'/'.join(segments[:-1])}", {}
        response = self.context.http.get(url, params=params or None)
        if response.status_code >= 400:
            log.warning("GET %s: HTTP %s; the table's vintage is unknown", url, response.status_code)
            return None
        body = json_body(response, "table description" if self._v2 else "folder listing")
        if self._v2:
            return values.symbol(body.get("updated")) if isinstance(body, Mapping) else None
        for item in body if isinstance(body, list) else []:
            if isinstance(item, Mapping) and _same_table(str(item.get("id", "")), name):
                return values.symbol(item.get("updated"))
        return None

    # ------------------------------------------------------------------ plan

    def plan(self, variables: Sequence[Variable]) -> Plan:
        o = self.options
        by_code = {v.code: v for v in variables}
        unmatched: list[str] = []

        def variable(name: str | None, role: str) -> Variable:
            if name not in by_code:
                raise SourceError(
                    f"{self.table_url()}: the table has no {role} variable {name!r} "
                    f"(variables: {', '.join(by_code)})"
                )
            return by_code[name]

        def mapped(var: Variable, mapping: Mapping[str, str], role: str) -> dict[str, str]:
            found = var.match(list(mapping))
            unmatched.extend(f"{var.code}: {k}" for k in mapping if k not in found)
            code_to_target = {}
            for key, code in found.items():
                code_to_target.setdefault(code, mapping[key])
            if not code_to_target:
                raise SourceError(
                    f"{self.table_url()}: none of the configured {role} values exist in {var.code!r}"
                )
            return code_to_target

        selection: dict[str, tuple[str, ...]] = {}
        indicator_of: dict[str, str] = {}
        area_of: dict[str, str] = {}
        if o.indicator_dimension:
            var = variable(o.indicator_dimension, "indicator")
            indicator_of = mapped(var, o.indicators, "indicator")
            selection[var.code] = tuple(c for c in var.values if c in indicator_of)
        if o.area_dimension:
            var = variable(o.area_dimension, "area")
            area_of = mapped(var, o.areas, "area")
            selection[var.code] = tuple(c for c in var.values if c in area_of)
        time_name = o.time_dimension or next((v.code for v in variables if v.time), None)
        if time_name is None:
            raise SourceError(f"{self.table_url()}: no variable is marked as time; set `time_dimension`")
        time_var = variable(time_name, "time")
        times = time_var.values
        if o.time_values:
            found = time_var.match(o.time_values)
            unmatched.extend(f"{time_var.code}: {k}" for k in o.time_values if k not in found)
            wanted = set(found.values())
            times = tuple(c for c in times if c in wanted)
        if o.time_last:
            times = times[-o.time_last :]
        selection[time_var.code] = times
        for name, wanted_values in o.selections.items():
            var = variable(name, "selected")
            found = var.match(wanted_values)
            if len(set(found.values())) != 1:
                raise SourceError(
                    f"{self.table_url()}: selection for {name!r} must name exactly one existing value "
                    f"(matched {sorted(set(found.values()))} of {wanted_values})"
                )
            selection[var.code] = (next(iter(found.values())),)
        for var in variables:
            if var.code in selection or var.elimination:
                continue
            if len(var.values) == 1:
                selection[var.code] = var.values
                continue
            raise SourceError(
                f"{self.table_url()}: variable {var.code!r} has {len(var.values)} values and cannot be "
                "eliminated; choose one in `selections`"
            )
        ordered = tuple((v.code, selection[v.code]) for v in variables if v.code in selection)
        return Plan(ordered, indicator_of, area_of, time_var.code, tuple(unmatched))

    # ------------------------------------------------------------------ data

    def _query(self, part: Sequence[tuple[str, Sequence[str]]]) -> httpx.Response:
        o = self.options
        if self._v2:
            body = {"selection": [{"variableCode": c, "valueCodes": list(v)} for c, v in part]}
            return self.context.http.post(
                self.table_url() + "/data",
                params={"lang": o.language, "outputFormat": "json-stat2"},
                json=body,
            )
        body = {
            "query": [{"code": c, "selection": {"filter": "item", "values": list(v)}} for c, v in part],
            "response": {"format": "json-stat2"},
        }
        return self.context.http.post(self.table_url(), json=body)

    def fetch(self, part: Sequence[tuple[str, Sequence[str]]]) -> tuple[jsonstat.Dataset, str]:
        response = self._query(part)
        where = f"POST {response.url}"
        if response.status_code >= 400:
            raise SourceError(f"{where}: HTTP {response.status_code}: {_problem(response)}")
        body = json_body(response, "the data response")
        try:
            return jsonstat.read(body), where
        except jsonstat.JsonStatError as exc:
            raise SourceError(f"{where}: not a usable JSON-stat 2.0 dataset: {exc}") from None

    def to_records(
        self, data: jsonstat.Dataset, plan: Plan, vintage: str | None, where: str
    ) -> tuple[pd.DataFrame, list[tuple[dict[str, Any], str]], int]:
        """Cells → indicator_observation records (vectorised), rejects, and the count of unmapped cells."""
        o = self.options

        def lookup(dim_id: str, mapping: Mapping[str, str] | None, role: str) -> np.ndarray:
            if dim_id not in data.ids:
                raise SourceError(
                    f"{where}: the response has no {role} dimension {dim_id!r} (has {list(data.ids)})"
                )
            dim = data.dimension(dim_id)
            table = np.array([mapping.get(c) if mapping is not None else c for c in dim.codes], dtype=object)
            return table[data.positions(dim_id)]

        n = len(data.cells)
        indicator = (
            lookup(o.indicator_dimension, plan.indicator_of, "indicator")
            if o.indicator_dimension
            else np.full(n, o.indicator, dtype=object)
        )
        if o.area_dimension:
            area = lookup(o.area_dimension, plan.area_of, "area")
        else:
            area = np.full(n, o.org_unit or self.context.settings.province.code, dtype=object)
        if plan.time_var not in data.ids:
            raise SourceError(f"{where}: the response has no time dimension {plan.time_var!r}")
        tdim = data.dimension(plan.time_var)
        parser = PeriodParser(o.period_regex)
        per_category = [
            parser.parse(label) or parser.parse(code)
            for code, label in zip(tdim.codes, tdim.labels, strict=True)
        ]
        tpos = data.positions(plan.time_var)
        grain = np.array([p.grain if p else None for p in per_category], dtype=object)[tpos]
        start = np.array([p.start if p else None for p in per_category], dtype=object)[tpos]
        code = np.array([p.code if p else None for p in per_category], dtype=object)[tpos]
        flag = np.array([p.flag if p else None for p in per_category], dtype=object)[tpos]
        text = np.array(tdim.labels, dtype=object)[tpos]

        cells = data.values.copy()
        status = data.status.copy()
        nil = np.isnan(cells) & np.isin(status, np.array(o.nil_symbols, dtype=object))
        cells[nil] = 0.0
        status = np.where((status == None) & (flag != None), flag, status)  # noqa: E711

        units = self._units(data, indicator)
        frame = pd.DataFrame(
            {
                "indicator": indicator,
                "org_unit_code": area,
                "grain": grain,
                "period_start": start,
                "period": code,
                "value": cells,
                "status": status,
                "unit": units,
                "vintage": vintage,
            }
        )
        mapped = frame["indicator"].notna() & frame["org_unit_code"].notna()
        unmapped = int((~mapped).sum())
        problems = pd.Series(data.problems if data.problems is not None else None, index=frame.index)
        broken = mapped & problems.notna()
        rejects = [
            (rec, str(reason))
            for rec, reason in zip(frame[broken].to_dict(orient="records"), problems[broken], strict=True)
        ]
        mapped &= ~broken
        text = text[mapped.to_numpy()]
        frame = frame[mapped]
        bad_period = frame["grain"].isna()
        rejects += [
            ({**rec, "period": values.clip(t)}, unrecognised(t))
            for rec, t in zip(
                frame[bad_period].drop(columns=["period"]).to_dict(orient="records"),
                text[bad_period.to_numpy()],
                strict=True,
            )
        ]
        frame = frame[~bad_period]
        dup = frame.duplicated(subset=["indicator", "org_unit_code", "grain", "period_start"], keep="first")
        rejects += [
            (rec, "duplicate: another source value maps to the same indicator, area and period")
            for rec in frame[dup].to_dict(orient="records")
        ]
        return frame[~dup].reset_index(drop=True), rejects, unmapped

    def _units(self, data: jsonstat.Dataset, indicator: np.ndarray) -> Any:
        """`units` (per indicator) or `unit` from the options, else the table's own units from whichever
        dimension carries them (the indicator's dimension first, then `role.metric`, then any)."""
        o = self.options
        if o.units:
            return pd.Series(indicator, dtype=object).map(lambda i: o.units.get(i, o.unit)).to_numpy()
        if o.unit:
            return o.unit
        return jsonstat.cell_units(data, prefer=(o.indicator_dimension,))

    def _fingerprint(self) -> str:
        return hashlib.sha256(self.options.model_dump_json().encode()).hexdigest()[:16]

    def read(self, cursor: Mapping[str, Any] | None, *, full: bool = False) -> Iterator[Batch]:
        cursor = dict(cursor or {})
        stamp = self.table_updated()
        fingerprint = self._fingerprint()
        if (
            not full
            and stamp is not None
            and cursor.get("vintage") == stamp
            and cursor.get("options") == fingerprint
        ):
            yield Batch(
                TARGET, [], cursor=cursor, description=f"{self.options.table}: unchanged since {stamp}"
            )
            return
        limits = self.limits()
        plan = self.plan(self.metadata())
        if plan.unmatched:
            log.warning(
                "%s: option values not in the table: %s", self.options.table, "; ".join(plan.unmatched)
            )
        parts = split_selection(plan.selection, limits.max_values)
        throttle = _Throttle(limits, self.context.http.sleep)
        vintage = stamp
        for number, part in enumerate(parts, start=1):
            throttle.wait()
            data, where = self.fetch(part)
            vintage = data.updated or stamp
            records, rejects, unmapped = self.to_records(data, plan, vintage, where)
            last = number == len(parts)
            new_cursor = {"vintage": stamp or vintage, "options": fingerprint} if last else cursor
            note = f"; {unmapped} unmapped cells skipped" if unmapped else ""
            yield Batch(
                TARGET,
                records,
                cursor=new_cursor,
                rejects=rejects,
                description=f"{self.options.table} part {number}/{len(parts)}: {len(records)} cells{note}",
            )

    def check(self) -> CheckResult:
        try:
            limits = self.limits()
            variables = self.metadata()
            plan = self.plan(variables)
        except SourceError as exc:
            return CheckResult(False, str(exc))
        cells = int(np.prod([len(v) for _, v in plan.selection], dtype=np.int64))
        parts = len(split_selection(plan.selection, limits.max_values))
        message = (
            f"{self.options.table}: {len(variables)} variables; selection of {cells} cells in {parts} "
            f"quer{'y' if parts == 1 else 'ies'} (maxValues {limits.max_values})"
        )
        if plan.unmatched:
            message += "; not in the table: " + "; ".join(plan.unmatched)
        return CheckResult(True, message)


def _positive_int(raw: Any) -> int | None:
    """A server's limit (`maxValues`, `maxCalls`, `timeWindow`) as a positive integer, else None."""
    if isinstance(raw, bool):
        return None
    try:
        number = int(raw)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number > 0 else None


def _same_table(listed: str, name: str) -> bool:
    return unicodedata.normalize("NFC", listed).removesuffix(".px") == unicodedata.normalize(
        "NFC", name
    ).removesuffix(".px")


def _variables_v1(body: Any) -> tuple[Variable, ...]:
    if not isinstance(body, Mapping) or not isinstance(body.get("variables"), list):
        raise ValueError("expected an object with a `variables` array")
    out = []
    for raw in body["variables"]:
        values, texts = [str(v) for v in raw["values"]], [str(t) for t in raw["valueTexts"]]
        if len(values) != len(texts):
            raise ValueError(f"variable {raw['code']!r}: values and valueTexts differ in length")
        out.append(
            Variable(
                code=str(raw["code"]),
                text=str(raw.get("text", raw["code"])),
                values=tuple(values),
                texts=tuple(texts),
                elimination=bool(raw.get("elimination", False)),
                time=bool(raw.get("time", False)),
            )
        )
    return tuple(out)


def _variables_v2(body: Any) -> tuple[Variable, ...]:
    dims = jsonstat.read_dimensions(body)
    role = body.get("role") or {}
    times = set(role.get("time") or [])
    return tuple(
        Variable(
            code=d.id,
            text=d.label,
            values=d.codes,
            texts=d.labels,
            elimination=bool(d.extension.get("elimination", False)),
            time=d.id in times,
        )
        for d in dims
    )
