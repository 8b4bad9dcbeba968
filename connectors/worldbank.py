"""World Bank Indicators API v2 → `indicator_observation` (protocols §6).

`GET {base}/country/{countries}/indicator/{id}?format=json&per_page=&page=` answers
`[page-meta, rows]`; pages are followed until `page == pages`. Edge cases handled:

* errors come back with **HTTP 200** as `[{"message": [{"id", "key", "value"}]}]`;
* no data is `[{"page": 0, "pages": 0, …}, null]`;
* `page`, `pages`, `per_page`, `total` may be strings;
* `value` may be `null` (kept NULL, never 0); `date` is a string (`2024`, `2024M01`, `2024Q1`);
* `lastupdated` is the source's vintage: it is kept per indicator in the cursor, and an indicator
  whose vintage has not changed is not downloaded again (only its first page is read) unless `full`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
import pandas as pd
from pydantic import Field

from connectors import values
from connectors.periods import PeriodParser, unrecognised
from connectors.stat_options import StatisticsOptions
from connectors.values import clip
from ioc.connector import Batch, CheckResult, Connector, SourceError
from ioc.http import json_body

log = logging.getLogger(__name__)

TARGET = "indicator_observation"


class WorldBankOptions(StatisticsOptions):
    base_url: str = "https://api.worldbank.org/v2"
    countries: list[str] = Field(default_factory=lambda: ["VN"], min_length=1)
    indicators: dict[str, str] = Field(
        min_length=1, description="World Bank indicator id → our indicator code"
    )
    country_org_units: dict[str, str] = Field(
        default_factory=lambda: {"VN": "VN", "VNM": "VN"},
        description="country id (ISO2 or ISO3) → org_unit code; others keep their ISO2 id",
    )
    date: str | None = Field(default=None, description="e.g. 2015:2024, 2012M01:2012M08")
    mrv: int | None = Field(default=None, ge=1, description="most recent N values")
    frequency: str | None = None
    source: str | None = None
    per_page: int = Field(default=1000, ge=1, le=32_500)
    unit: str | None = None
    max_pages: int = Field(default=1000, ge=1, description="guard against a server that never ends")


def _int(value: Any, what: str, where: str) -> int:
    try:
        if isinstance(value, bool):
            raise TypeError(value)
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise SourceError(f"{where}: page meta `{what}` is not a number ({clip(value)!r})") from None


class WorldBankConnector(Connector):
    name: ClassVar[str] = "worldbank"
    Options = WorldBankOptions
    targets: ClassVar[tuple[str, ...]] = (TARGET,)
    options: WorldBankOptions

    def url(self, indicator: str) -> str:
        o = self.options
        countries = ";".join(quote(c, safe="") for c in o.countries)
        return f"{o.base_url}/country/{countries}/indicator/{quote(indicator, safe='.;')}"

    def page(
        self, indicator: str, number: int, per_page: int | None = None
    ) -> tuple[dict[str, Any], list[Any]]:
        """One page: (meta with integer page/pages/total, rows). Raises SourceError on any error."""
        o = self.options
        params: dict[str, Any] = {"format": "json", "per_page": per_page or o.per_page, "page": number}
        for name, value in (
            ("date", o.date),
            ("mrv", o.mrv),
            ("frequency", o.frequency),
            ("source", o.source),
        ):
            if value is not None:
                params[name] = value
        response = self.context.http.get(self.url(indicator), params=params)
        return self._decode(response)

    @staticmethod
    def _decode(response: httpx.Response) -> tuple[dict[str, Any], list[Any]]:
        where = f"GET {response.url}"
        body = json_body(response, "the answer")
        if isinstance(body, list) and body and isinstance(body[0], Mapping) and "message" in body[0]:
            messages = body[0]["message"]
            text = "; ".join(
                f"{clip(m.get('id', '?'))} {clip(m.get('key', ''))}: {clip(m.get('value', ''), 200)}"
                if isinstance(m, Mapping)
                else clip(m)
                for m in (messages if isinstance(messages, list) else [messages])[:5]
            )
            raise SourceError(f"{where}: World Bank error (HTTP {response.status_code}): {text}")
        if response.status_code >= 400:
            raise SourceError(f"{where}: HTTP {response.status_code}: {clip(body, 160)}")
        if not (isinstance(body, list) and len(body) == 2 and isinstance(body[0], Mapping)):
            raise SourceError(f"{where}: expected [page-meta, rows], got {clip(body, 120)!r}")
        meta = dict(body[0])
        for name in ("page", "pages", "total"):
            meta[name] = _int(meta.get(name, 0), name, where)
        rows = body[1]
        if rows is None:
            return meta, []
        if not isinstance(rows, list):
            raise SourceError(f"{where}: rows must be an array or null, got {type(rows).__name__}")
        return meta, rows

    def to_records(
        self, rows: list[Any], indicator: str, vintage: str | None, parser: PeriodParser
    ) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], str]]]:
        o = self.options
        ours = o.indicators[indicator]
        records: list[dict[str, Any]] = []
        rejects: list[tuple[dict[str, Any], str]] = []
        seen: set[tuple[str, str]] = set()
        for row in rows:
            if not isinstance(row, Mapping):
                rejects.append(({"row": f"<{type(row).__name__}>"}, "row is not an object"))
                continue
            country = row.get("country") if isinstance(row.get("country"), Mapping) else {}
            iso2, iso3 = values.code(country.get("id")), values.code(row.get("countryiso3code"))
            org_unit = (
                o.country_org_units.get(iso2 or "") or o.country_org_units.get(iso3 or "") or iso2 or iso3
            )
            period = parser.parse(row.get("date"))
            value, symbol, problem = values.read_value(row.get("value"))
            obs_status = row.get("obs_status")
            if problem is None and not values.is_symbol(obs_status):
                problem = "obs_status: not a short status symbol"
            record = {
                "indicator": ours,
                "org_unit_code": org_unit,
                "grain": period.grain if period else None,
                "period_start": period.start if period else None,
                "period": period.code if period else values.clip(row.get("date")),
                "value": value,
                "status": values.symbol(obs_status) or symbol or (period.flag if period else None),
                "unit": o.unit or values.symbol(row.get("unit"), values.MAX_TEXT),
                "vintage": vintage,
            }
            if not org_unit:
                rejects.append((record, "country: no usable id and no ISO3 code"))
            elif period is None:
                rejects.append((record, unrecognised(row.get("date"), "date")))
            elif problem is not None:
                rejects.append((record, problem))
            elif (org_unit, period.code) in seen:
                rejects.append((record, "duplicate: the same country and period twice"))
            else:
                seen.add((org_unit, period.code))
                records.append(record)
        return records, rejects

    def read(self, cursor: Mapping[str, Any] | None, *, full: bool = False) -> Iterator[Batch]:
        o = self.options
        vintages: dict[str, Any] = dict((cursor or {}).get("lastupdated") or {})
        parser = PeriodParser(o.period_regex)
        for indicator in o.indicators:
            meta, rows = self.page(indicator, 1)
            stamp = values.symbol(meta.get("lastupdated"))
            if not full and stamp and vintages.get(indicator) == stamp:
                yield Batch(
                    TARGET,
                    [],
                    cursor={"lastupdated": dict(vintages)},
                    description=f"{indicator}: unchanged since {stamp}",
                )
                continue
            pages = meta["pages"]
            if pages > o.max_pages:
                raise SourceError(
                    f"{self.url(indicator)}: {pages} pages is more than max_pages {o.max_pages}"
                )
            all_rows = list(rows)
            for number in range(2, pages + 1):
                page_meta, page_rows = self.page(indicator, number)
                if page_meta["page"] != number:
                    raise SourceError(
                        f"{self.url(indicator)}: asked for page {number}, the server answered page "
                        f"{page_meta['page']}"
                    )
                all_rows += page_rows
            if meta["total"] and len(all_rows) != meta["total"]:
                log.warning("%s: total says %d rows, pages gave %d", indicator, meta["total"], len(all_rows))
            records, rejects = self.to_records(all_rows, indicator, stamp, parser)
            if stamp:
                vintages[indicator] = stamp
            yield Batch(
                TARGET,
                pd.DataFrame.from_records(records) if records else [],
                cursor={"lastupdated": dict(vintages)},
                rejects=rejects,
                description=f"{indicator}: {len(records)} rows from {max(pages, 1)} page(s), vintage {stamp}",
            )

    def check(self) -> CheckResult:
        indicator = next(iter(self.options.indicators))
        try:
            meta, _rows = self.page(indicator, 1, per_page=1)
        except SourceError as exc:
            return CheckResult(False, str(exc))
        return CheckResult(
            True, f"{indicator}: {meta['total']} values, last updated {meta.get('lastupdated') or 'unknown'}"
        )
