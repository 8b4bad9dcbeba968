"""SDMX REST data queries → `indicator_observation` (protocols §4).

Reads SDMX-JSON data messages 1.0 (`data.structure`), 2.0 (`data.structures[]` with
`dataSets[i].structure`) and the pre-1.0 draft (`structure`/`dataSets` at the top level), in the
time-series view (`series` → `observations`) and the flat view (`dataSets[].observations`).

Decisions worth knowing:

* Observations are joined to their dimension values **by index** and sorted afterwards: SDMX-JSON
  2.0 lets `TIME_PERIOD` values come out of time order.
* A reported missing value (`null`, usually with `OBS_STATUS` `M`/`L`) stays NULL; the status keeps
  the `OBS_STATUS` code. Non-numeric strings become NULL with the string as status.
* Observations of a dataset whose `action` is `Delete` (an `updatedAfter` delta) may omit their
  value (`"0": []`). They are stored as NULL with status `deleted` (a tombstone): the load path
  upserts and has no deletion yet. A Delete series without observations (the whole series) is
  rejected with a reason. A message may hold several datasets (e.g. Replace + Delete): they load
  together, and when two datasets give the same observation the later one wins (message order).
* `UNIT_MULT` (a power of ten, SDMX's CL_UNIT_MULT) is **applied to the value**: 350.154 with
  UNIT_MULT 3 and UNIT_MEASURE `T` is stored as 350154 `T`. The product is computed in decimal, so
  no binary rounding noise is stored. An omitted UNIT_MULT takes the attribute's `default`, else 0;
  one that is not a whole number in -15…15 rejects the observation with a reason.
* Record-level problems (an observation that is not an array, a value that is not a number, null
  or a short status text, an attribute index that names no value) become rejected records with a
  reason; a message whose structure or keys cannot be read raises :class:`SdmxFormatError`.
* Indicator code: the configured mapping of one dimension's values, a fixed `indicator`, or by
  default `<prefix>.<codes of every dimension but area and time, in key order>` (prefix = flow id),
  which never merges two series.
* No results (HTTP 204, HTTP 404, or SDMX error code 100) is an empty pull, not a failure.
* Incremental pulls send `updatedAfter` = the previous message's `meta.prepared` (the server's
  clock), or the time our previous request started.
* `vintage` is the response's `Last-Modified` header or a configured attribute (e.g. `LAST_UPDATE`);
  never `meta.prepared`, which changes on every request and would rewrite every row.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar, Literal
from urllib.parse import quote

import httpx
import numpy as np
import pandas as pd
from pydantic import Field

from connectors import values
from connectors.periods import PeriodParser, unrecognised
from connectors.stat_options import StatisticsOptions
from ioc.connector import Batch, CheckResult, Connector, SourceError
from ioc.http import json_body

log = logging.getLogger(__name__)

TARGET = "indicator_observation"
ACCEPT = {
    "v1": "application/vnd.sdmx.data+json;version=1.0.0",
    "v2": "application/vnd.sdmx.data+json;version=2.0.0",
}


class SdmxFormatError(ValueError):
    """The payload is not an SDMX-JSON data message this reader understands."""


class SdmxOptions(StatisticsOptions):
    base_url: str = Field(description="web service root, e.g. https://sdmx.oecd.org/public/rest")
    api: Literal["v1", "v2"] = Field(default="v1", description="URL syntax: v1 = SDMX 2.1, v2 = SDMX 3.0")
    flow: str = Field(description="AGENCY,FLOW,VERSION (or FLOW, or AGENCY,FLOW)")
    key: str = Field(default="all", description="dimension codes joined by '.', '+' = or, empty = any")
    provider: str | None = None
    params: dict[str, str] = Field(default_factory=dict, description="startPeriod, endPeriod, c[…], …")
    accept: str | None = Field(default=None, description="Accept header (default: SDMX-JSON for `api`)")
    indicator: str | None = Field(default=None, description="fixed indicator code")
    indicator_dimension: str | None = None
    indicators: dict[str, str] = Field(default_factory=dict, description="dimension value → indicator")
    indicator_prefix: str | None = Field(default=None, description="default: the flow id")
    area_dimension: str | None = Field(default=None, description="default: the REF_AREA dimension")
    areas: dict[str, str] = Field(default_factory=dict, description="area code → org_unit (else unchanged)")
    org_unit: str | None = Field(default=None, description="when there is no area dimension")
    time_dimension: str = "TIME_PERIOD"
    status_attribute: str = "OBS_STATUS"
    unit_attribute: str | None = "UNIT_MEASURE"
    unit_mult_attribute: str | None = Field(
        default="UNIT_MULT", description="power-of-ten multiplier applied to the value (None: ignore)"
    )
    unit: str | None = None
    vintage_attribute: str | None = None
    incremental: bool = True


# --------------------------------------------------------------------------- message reading


@dataclass(frozen=True)
class Component:
    id: str
    values: list[Any] | None
    key_position: int | None = None
    roles: tuple[str, ...] = ()
    default: Any = None

    def value(self, index: Any) -> Any:
        """The code at `index`; components without `values` carry the actual value (SDMX-JSON 2.0)."""
        if index is None:
            return None
        if self.values is None:
            return index
        try:
            position = int(index)
            if position < 0:
                raise IndexError(position)
            item = self.values[position]
        except (IndexError, TypeError, ValueError, OverflowError):
            raise SdmxFormatError(f"{self.id}: value index {values.clip(repr(index))} out of range") from None
        if isinstance(item, Mapping):
            item = _text(item.get("id", item.get("value", item.get("name"))))
        found = values.code(item) if not isinstance(item, float) else values.symbol(item)
        if found is None:
            raise SdmxFormatError(
                f"{self.id}: value at {values.clip(repr(index))} is not a code (a short printable text)"
            )
        return found


def _text(value: Any) -> Any:
    """Localised texts (`{"en": "…"}`) → one string."""
    if isinstance(value, Mapping):
        return next(iter(value.values()), None)
    return value


def _components(raw: Any) -> list[Component]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise SdmxFormatError("a component list that is not an array")
    out = []
    for item in raw:
        comp_id = values.code(item.get("id")) if isinstance(item, Mapping) else None
        if comp_id is None:
            raise SdmxFormatError("a component without a usable id")
        roles = item.get("roles") or item.get("role") or []
        position = item.get("keyPosition")
        out.append(
            Component(
                comp_id,
                item.get("values") if isinstance(item.get("values"), list) else None,
                position if isinstance(position, int) and not isinstance(position, bool) else None,
                tuple(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else (),
                item.get("default") if isinstance(item.get("default"), str | int) else None,
            )
        )
    return out


def _section(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    found = raw.get(key) or {}
    if not isinstance(found, Mapping):
        raise SdmxFormatError(f"structure.{key} must be an object")
    return found


@dataclass
class Structure:
    dims: dict[str, list[Component]]
    attrs: dict[str, list[Component]]
    measures: int

    @classmethod
    def parse(cls, raw: Any) -> Structure:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("dimensions"), Mapping):
            raise SdmxFormatError("structure without dimensions")
        dims_raw, attrs_raw = _section(raw, "dimensions"), _section(raw, "attributes")
        dims = {lvl: _components(dims_raw.get(lvl)) for lvl in ("dataSet", "series", "observation")}
        attrs = {
            lvl: _components(attrs_raw.get(lvl))
            for lvl in ("dataSet", "dimensionGroup", "series", "observation")
        }
        measures = len(_components(_section(raw, "measures").get("observation"))) or 1
        return cls(dims, attrs, measures)

    def all_dimensions(self) -> list[Component]:
        comps = self.dims["dataSet"] + self.dims["series"] + self.dims["observation"]
        return sorted(comps, key=lambda c: (c.key_position is None, c.key_position or 0))


def message_parts(message: Any) -> tuple[list[tuple[Structure, Mapping[str, Any]]], Mapping[str, Any]]:
    """(structure, dataset) pairs and `meta` of any supported SDMX-JSON data message shape."""
    if not isinstance(message, Mapping):
        raise SdmxFormatError(f"expected a JSON object, got {type(message).__name__}")
    meta = message.get("meta") or message.get("header") or {}
    data = message.get("data")
    if data is None and "dataSets" in message:  # the pre-1.0 draft shape
        data = message
    if not isinstance(data, Mapping):
        raise SdmxFormatError("no `data` (and no `errors`)")
    datasets = data.get("dataSets")
    if not isinstance(datasets, list):
        raise SdmxFormatError("`dataSets` must be an array")
    pairs = []
    if isinstance(data.get("structures"), list):  # SDMX-JSON 2.0
        structures = [Structure.parse(s) for s in data["structures"]]
        for ds in datasets:
            index = ds.get("structure", 0) if isinstance(ds, Mapping) else 0
            if not isinstance(index, int) or not 0 <= index < len(structures):
                raise SdmxFormatError(f"dataSets[].structure {values.clip(repr(index))} names no structure")
            pairs.append((structures[index], ds))
    else:
        structure = Structure.parse(data.get("structure"))
        pairs = [(structure, ds) for ds in datasets]
    return pairs, meta if isinstance(meta, Mapping) else {}


def message_errors(message: Any) -> list[str]:
    """`code: title (detail)` for each SDMX error in a message (1.0 and 2.0 wordings)."""
    if not isinstance(message, Mapping) or not message.get("errors"):
        return []
    out = []
    errors = message["errors"] if isinstance(message["errors"], list) else [message["errors"]]
    for err in errors[:5]:
        if not isinstance(err, Mapping):
            out.append(values.clip(err, 200))
            continue
        title = values.clip(_text(err.get("title") or err.get("titles")) or "", 200)
        detail = values.clip(_text(err.get("detail") or err.get("details")) or "", 400)
        out.append(f"{values.clip(err.get('code', '?'))}: {title}" + (f" ({detail})" if detail else ""))
    return out


def _indices(key: str, width: int, what: str) -> list[int]:
    parts = key.split(":") if key != "" else []
    if len(parts) != width:
        raise SdmxFormatError(
            f"{what} key {values.clip(repr(key))} has {len(parts)} positions, the structure has {width}"
        )
    try:
        return [int(p) for p in parts]
    except ValueError:
        raise SdmxFormatError(f"{what} key {values.clip(repr(key))} is not made of indices") from None


def _attr_values(comps: Sequence[Component], indices: Any) -> dict[str, Any]:
    """`@<id>` → value of each attribute; omitted trailing ones take their `default` (null = unset)."""
    given = indices if isinstance(indices, list) else []
    out: dict[str, Any] = {}
    for n, comp in enumerate(comps):
        out[f"@{comp.id}"] = comp.value(given[n]) if n < len(given) else values.symbol(comp.default)
    return out


def _observation(
    structure: Structure, prefix: Mapping[str, Any], key: str, obs: Any, deleting: bool
) -> dict[str, Any]:
    """One observation `[measures…, attribute indices…]` at `key`, on top of its series' values.

    A problem with the observation itself (not with its key) is returned in `problem`."""
    record = dict(prefix)
    dims = structure.dims["observation"]
    for comp, idx in zip(dims, _indices(key, len(dims), "observation"), strict=True):
        record[comp.id] = comp.value(idx)
    if not isinstance(obs, list) or (not obs and not deleting):
        record["value"] = None
        got = "[]" if obs == [] else type(obs).__name__
        record["problem"] = f"observation: a non-empty array [value, attributes…] expected, got {got}"
        return record
    record["value"], record["value_text"], record["problem"] = values.read_value(obs[0] if obs else None)
    try:
        record.update(_attr_values(structure.attrs["observation"], obs[structure.measures :]))
    except SdmxFormatError as exc:
        record["problem"] = f"attribute: {exc}"
    return record


def observations(message: Any) -> pd.DataFrame:
    """Every observation as a row: one column per dimension (codes), `value` (float, NaN = missing),
    `value_text` (a non-numeric value), one `@<id>` column per attribute, and `action`."""
    pairs, _ = message_parts(message)
    rows: list[dict[str, Any]] = []

    for number, (structure, ds) in enumerate(pairs):
        if not isinstance(ds, Mapping):
            raise SdmxFormatError("a dataSet that is not an object")
        base: dict[str, Any] = {"action": values.symbol(ds.get("action")) or "Information", "dataset": number}
        deleting = base["action"].lower() == "delete"
        for comp in structure.dims["dataSet"]:
            base[comp.id] = comp.value(0)
        base.update(_attr_values(structure.attrs["dataSet"], ds.get("attributes")))
        if "series" in ds:
            series = _mapping(ds["series"], "`series`")
            series_dims = structure.dims["series"]
            for skey, item in series.items():
                prefix = dict(base)
                for comp, idx in zip(series_dims, _indices(skey, len(series_dims), "series"), strict=True):
                    prefix[comp.id] = comp.value(idx)
                if not isinstance(item, Mapping):
                    raise SdmxFormatError(f"series {values.clip(repr(skey))} is not an object")
                prefix.update(_attr_values(structure.attrs["series"], item.get("attributes")))
                if deleting and item.get("observations") is None:
                    problem = "Delete of a whole series (no observations listed) is not supported"
                    rows.append({**prefix, "value": None, "value_text": None, "problem": problem})
                    continue
                for okey, obs in _mapping(
                    item.get("observations"), f"series {values.clip(repr(skey))} observations"
                ).items():
                    rows.append(_observation(structure, prefix, okey, obs, deleting))
        elif "observations" in ds:
            for okey, obs in _mapping(ds["observations"], "`observations`").items():
                rows.append(_observation(structure, base, okey, obs, deleting))
    columns = ["value", "value_text", "action", "problem"]
    frame = pd.DataFrame.from_records(rows) if rows else pd.DataFrame(columns=columns)
    frame["value"] = frame["value"].astype("float64")
    order = [c.id for c in pairs[0][0].all_dimensions()] if pairs else []
    internal = ("value", "value_text", "action", "dataset", "problem")
    frame.attrs["key_order"] = [c for c in order if c in frame] + [
        c for c in frame if c not in order and not c.startswith("@") and c not in internal
    ]
    return frame


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SdmxFormatError(f"{what} must be an object")
    return value


#: Largest |UNIT_MULT| accepted (10^15: quadrillions); anything beyond is a broken message.
MAX_UNIT_MULT = 15


def unit_multipliers(codes: pd.Series) -> tuple[pd.Series, pd.Series]:
    """UNIT_MULT codes (missing = 0) → integer exponents, and a mask of codes that are not one."""
    exponents = pd.to_numeric(codes, errors="coerce")
    whole = exponents.notna() & (exponents % 1 == 0) & (exponents.abs() <= MAX_UNIT_MULT)
    bad = codes.notna() & ~whole
    return exponents.where(whole, 0).astype("int64"), bad


def apply_unit_mult(numbers: pd.Series, exponents: pd.Series) -> pd.Series:
    """value × 10^exponent, computed in decimal (350.154 × 10³ = 350154 exactly, not 350153.99…)."""
    out = numbers.copy()
    scale = exponents.ne(0) & numbers.notna()
    out[scale] = [
        float(Decimal(repr(float(x))).scaleb(int(e)))
        for x, e in zip(numbers[scale], exponents[scale], strict=True)
    ]
    return out


# --------------------------------------------------------------------------- connector


class SdmxConnector(Connector):
    name: ClassVar[str] = "sdmx"
    Options = SdmxOptions
    targets: ClassVar[tuple[str, ...]] = (TARGET,)
    options: SdmxOptions

    def data_url(self) -> str:
        o = self.options
        key = quote(o.key, safe="+.*,") or "all"
        if o.api == "v2":
            parts = [p.strip() for p in o.flow.split(",")]
            if len(parts) == 1:
                agency, flow, version = "*", parts[0], "+"
            elif len(parts) == 2:
                agency, flow, version = parts[0], parts[1], "+"
            else:
                agency, flow, version = parts[:3]
            return (
                f"{o.base_url}/data/dataflow/{quote(agency)}/{quote(flow)}/{quote(version, safe='+~*')}/{key}"
            )
        provider = f"/{quote(o.provider, safe=',')}" if o.provider else ""
        return f"{o.base_url}/data/{quote(o.flow, safe=',')}/{key}{provider}"

    def _flow_id(self) -> str:
        parts = [p.strip() for p in self.options.flow.split(",")]
        return parts[1] if len(parts) > 1 else parts[0]

    def fetch(self, extra: Mapping[str, str]) -> tuple[Any | None, httpx.Response]:
        """The decoded message, or None for "no results"; SourceError for every other failure."""
        o = self.options
        url = self.data_url()
        response = self.context.http.get(
            url, params={**o.params, **extra} or None, headers={"Accept": o.accept or ACCEPT[o.api]}
        )
        where = f"GET {response.url}"
        if response.status_code in (204, 304):
            return None, response
        body: Any = None
        not_json: SourceError | None = None
        try:
            body = json_body(response, "the data message")
        except SourceError as exc:  # an error page may not be JSON; say so only if nothing else is wrong
            not_json = exc
        errors = message_errors(body)
        if response.status_code == 404 or any(e.startswith("100:") for e in errors):
            log.info("%s: no results (%s)", where, "; ".join(errors) or f"HTTP {response.status_code}")
            return None, response
        if response.status_code >= 400 or errors:
            detail = "; ".join(errors) or response.text[:200].replace("\n", " ")
            raise SourceError(f"{where}: HTTP {response.status_code}: SDMX error {detail}")
        if not_json is not None:
            raise not_json
        return body, response

    def to_records(
        self, frame: pd.DataFrame, response: httpx.Response
    ) -> tuple[pd.DataFrame, list[tuple[dict[str, Any], str]]]:
        o = self.options
        where = f"GET {response.url}"
        rejects: list[tuple[dict[str, Any], str]] = []
        if "problem" in frame:
            broken = frame["problem"].notna()
            rejects += [
                (_reject_record(row), str(row["problem"])) for row in frame[broken].to_dict(orient="records")
            ]
            frame = frame[~broken]
        if len(frame) == 0:
            return pd.DataFrame(), rejects
        if o.time_dimension not in frame:
            raise SourceError(f"{where}: the message has no time dimension {o.time_dimension!r}")
        dims = list(frame.attrs.get("key_order") or [])
        area_dim = o.area_dimension or ("REF_AREA" if "REF_AREA" in frame else None)
        if o.area_dimension and o.area_dimension not in frame:
            raise SourceError(f"{where}: the message has no area dimension {o.area_dimension!r}")
        if area_dim:
            area = frame[area_dim].map(lambda c: o.areas.get(c, c))
        else:
            area = pd.Series(o.org_unit or self.context.settings.province.code, index=frame.index)

        if o.indicator:
            indicator = pd.Series(o.indicator, index=frame.index)
        elif o.indicator_dimension:
            if o.indicator_dimension not in frame:
                raise SourceError(
                    f"{where}: the message has no indicator dimension {o.indicator_dimension!r}"
                )
            codes = frame[o.indicator_dimension]
            indicator = codes.map(o.indicators) if o.indicators else codes
        else:
            order = [d for d in dims if d not in (area_dim, o.time_dimension)]
            prefix = o.indicator_prefix if o.indicator_prefix is not None else self._flow_id()
            joined = pd.Series(prefix or "", index=frame.index, dtype=object)
            for column in order:  # vectorised concatenation (a row-wise join is 10x slower)
                joined = joined + "." + frame[column].astype(str)
            indicator = joined.str.removeprefix(".")

        periods = PeriodParser(o.period_regex).frame(frame[o.time_dimension])
        periods.index = frame.index
        status = frame.get(f"@{o.status_attribute}", pd.Series(None, index=frame.index, dtype=object)).astype(
            object
        )
        status = status.where(status.notna(), frame["value_text"])
        status = status.where(status.notna(), periods["flag"])
        deleted = frame["action"].str.lower().eq("delete")
        value = frame["value"]
        mult_col = f"@{o.unit_mult_attribute}" if o.unit_mult_attribute else None
        bad_mult = overflow = pd.Series(False, index=frame.index)
        if mult_col in frame:
            exponents, bad_mult = unit_multipliers(frame[mult_col])
            bad_mult &= ~deleted
            value = apply_unit_mult(value, exponents)
            overflow = ~deleted & np.isinf(value)
            value = value.mask(overflow)
        value = value.mask(deleted)
        status = status.mask(deleted, "deleted")
        unit_col = f"@{o.unit_attribute}" if o.unit_attribute else None
        unit = frame[unit_col] if o.unit is None and unit_col in frame else o.unit
        vintage_col = f"@{o.vintage_attribute}" if o.vintage_attribute else None
        modified = values.symbol(response.headers.get("last-modified"), values.MAX_TEXT)
        vintage = frame.get(vintage_col, modified)
        records = pd.DataFrame(
            {
                "indicator": indicator,
                "org_unit_code": area,
                "grain": periods["grain"],
                "period_start": periods["period_start"],
                "period": periods["period"],
                "value": value,
                "status": status,
                "unit": unit,
                "vintage": vintage,
            }
        )
        if bad_mult.any():
            rejects += [
                (
                    rec,
                    f"{o.unit_mult_attribute}: {m!r} is not a whole power of ten within ±{MAX_UNIT_MULT}",
                )
                for rec, m in zip(
                    records[bad_mult].to_dict(orient="records"), frame.loc[bad_mult, mult_col], strict=True
                )
            ]
            records = records[~bad_mult]
        if overflow.any():
            rejects += [
                (rec, f"value: × 10^{o.unit_mult_attribute} is beyond the range of a number")
                for rec in records[overflow[records.index]].to_dict(orient="records")
            ]
            records = records[~overflow[records.index]]
        unmapped = records["indicator"].isna()
        if unmapped.any():
            log.info("%s: %d observations of unmapped indicator values skipped", where, int(unmapped.sum()))
        records = records[~unmapped]
        bad = records["grain"].isna()
        times = frame.loc[records.index, o.time_dimension]
        rejects += [
            ({**rec, "period": values.clip(t)}, unrecognised(t))
            for rec, t in zip(records[bad].to_dict(orient="records"), times[bad], strict=True)
        ]
        records = records[~bad]
        key = ["indicator", "org_unit_code", "grain", "period_start"]
        dataset = frame.loc[records.index, "dataset"] if "dataset" in frame else 0
        dup = records.assign(_dataset=dataset).duplicated(subset=[*key, "_dataset"], keep="first")
        rejects += [
            (rec, "duplicate: two observations map to the same indicator, area and period")
            for rec in records[dup].to_dict(orient="records")
        ]
        records = records[~dup]
        # a later dataset of the same message (e.g. Replace after Delete) supersedes an earlier one
        records = records[~records.duplicated(subset=key, keep="last")]
        records = records.sort_values(key, kind="stable").reset_index(drop=True)
        return records, rejects

    def read(self, cursor: Mapping[str, Any] | None, *, full: bool = False) -> Iterator[Batch]:
        o = self.options
        cursor = dict(cursor or {})
        extra: dict[str, str] = {}
        if o.incremental and not full and cursor.get("updatedAfter"):
            extra["updatedAfter"] = str(cursor["updatedAfter"])
        started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        message, response = self.fetch(extra)
        where = f"GET {response.url}"
        if message is None:
            yield Batch(TARGET, [], cursor={"updatedAfter": started}, description=f"{where}: no results")
            return
        try:
            frame = observations(message)
            _, meta = message_parts(message)
        except SdmxFormatError as exc:
            raise SourceError(f"{where}: not a usable SDMX-JSON data message: {exc}") from None
        if not isinstance(meta, Mapping):
            meta = {}
        records, rejects = self.to_records(frame, response)
        prepared = _plausible(_as_utc(meta.get("prepared")), started)
        yield Batch(
            TARGET,
            records,
            cursor={"updatedAfter": prepared or started},
            rejects=rejects,
            description=f"{o.flow}/{o.key}: {len(records)} observations",
        )

    def check(self) -> CheckResult:
        try:
            message, response = self.fetch({"lastNObservations": "1"})
            if message is None:
                return CheckResult(True, f"GET {response.url}: the source answers, with no results")
            frame = observations(message)
            records, rejects = self.to_records(frame, response)
        except SdmxFormatError as exc:
            return CheckResult(False, f"{self.data_url()}: not a usable SDMX-JSON data message: {exc}")
        except SourceError as exc:
            return CheckResult(False, str(exc))
        message_text = f"{self.options.flow}: {len(records)} series answer"
        if rejects:
            message_text += f"; {len(rejects)} observations could not be mapped ({rejects[0][1]})"
        return CheckResult(True, message_text)


def _reject_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """What a rejected observation keeps: its dimension codes and attributes, the value if short."""
    return {k: v for k, v in row.items() if k not in ("problem", "value_text") and not _blank(v)}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _as_utc(stamp: Any) -> str | None:
    """`meta.prepared` → `YYYY-MM-DDTHH:MM:SSZ` (what `updatedAfter` accepts everywhere), or None."""
    if not stamp:
        return None
    try:
        parsed = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (ValueError, OverflowError):
        return None


#: How far ahead of our clock the server's `meta.prepared` may be before it is not used as a cursor.
CLOCK_TOLERANCE = timedelta(hours=1)


def _plausible(prepared: str | None, started: str) -> str | None:
    """`prepared`, unless it is more than CLOCK_TOLERANCE ahead of our own start time: a message
    "prepared" in 2999 would make every later pull ask for data updated after 2999 (and get none)."""
    if prepared is None:
        return None
    ahead = datetime.fromisoformat(prepared.replace("Z", "+00:00")) - datetime.fromisoformat(
        started.replace("Z", "+00:00")
    )
    if ahead > CLOCK_TOLERANCE:
        log.warning("meta.prepared %s is ahead of our clock (%s); the cursor uses ours", prepared, started)
        return None
    return prepared
