"""The `demo` connector: areas, departments, procedures, indicators, dossiers and incidents.

It reads nothing external: every run regenerates the whole province from `seed`, `scale`, `years`
and the snapshot instant `as_of` (default: the top of the current hour in the province's time zone,
so the data never lies in the future), and yields batches in load order through
the ordinary runner/load path. The same options give identical batches, so a re-run changes
nothing; on the next day only the new day's events and the dossiers whose status moved change.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from pydantic import Field

from connectors.demo import dossiers, incidents, indicators
from connectors.demo.catalogue import PROCEDURE_COLUMNS, departments, procedures
from connectors.demo.province import STREAM_CATALOGUE, DemoProvince
from connectors.demo.timeline import Timeline
from ioc.areas import place_units, province_org_units, read_org_unit_csv
from ioc.config import ConfigError, Settings
from ioc.connector import Batch, CheckResult, Connector, ConnectorOptions

DOSSIER_BATCH = 50_000


class DemoOptions(ConnectorOptions):
    """Options of a `demo` source; anything not given comes from `demo:` in config.yaml."""

    seed: int | None = Field(default=None, description="random seed (default: demo.seed)")
    scale: float | None = Field(default=None, gt=0, description="volume multiplier (default: demo.scale)")
    years: int | None = Field(default=None, ge=1, le=10, description="years of history (default: demo.years)")
    as_of: datetime | date | None = Field(
        default=None, description="snapshot instant; a date means 00:00 that day (default: this hour)"
    )


@dataclass
class DemoData:
    """Every table of the demo province, in load order."""

    as_of: datetime
    org_unit: list[dict[str, Any]]
    department: pd.DataFrame
    procedure: pd.DataFrame
    indicator_observation: pd.DataFrame
    dossier: pd.DataFrame
    incident: pd.DataFrame

    TABLES: ClassVar[tuple[str, ...]] = (
        "org_unit",
        "department",
        "procedure",
        "indicator_observation",
        "dossier",
        "incident",
    )


def _org_units(settings: Settings) -> list[dict[str, Any]]:
    code = settings.province.code
    if settings.province.areas_file is not None:
        return place_units(read_org_unit_csv(settings.province.areas_file), code)
    return province_org_units(code)


def build_demo(
    settings: Settings,
    *,
    seed: int | None = None,
    scale: float | None = None,
    years: int | None = None,
    as_of: date | datetime | None = None,
) -> DemoData:
    """Generate the whole demo province (deterministic in seed, scale, years and as_of)."""
    seed = settings.demo.seed if seed is None else seed
    scale = settings.demo.scale if scale is None else scale
    years = settings.demo.years if years is None else years
    if as_of is None:
        # the top of the current hour: the wall looks live, and re-runs within the hour change nothing
        as_of = datetime.now(ZoneInfo(settings.timezone)).replace(
            minute=0, second=0, microsecond=0, tzinfo=None
        )
    elif isinstance(as_of, datetime) and as_of.tzinfo is not None:
        as_of = as_of.astimezone(ZoneInfo(settings.timezone)).replace(tzinfo=None)

    units = _org_units(settings)
    provinces = [u["code"] for u in units if u["level"] == 1]
    wanted = {settings.province.code.strip(), settings.province.code.strip().zfill(2)}
    province_code = next((code for code in provinces if code in wanted), provinces[0] if provinces else None)
    if province_code is None:
        raise ConfigError(f"{settings.province.areas_file}: no province (level 1) among the org units")
    province = DemoProvince.build(units, province_code, seed, scale)
    timeline = Timeline.build(as_of, years, settings.calendar)
    catalogue = procedures(np.random.default_rng([seed, STREAM_CATALOGUE, 1]))
    return DemoData(
        as_of=timeline.now,
        org_unit=units,
        department=departments(province_code, province.communes.to_dict(orient="records")),
        procedure=catalogue[list(PROCEDURE_COLUMNS)],
        indicator_observation=indicators.generate(province, timeline),
        dossier=dossiers.generate(province, timeline, catalogue),
        incident=incidents.generate(province, timeline),
    )


class DemoConnector(Connector):
    name = "demo"
    Options = DemoOptions
    targets = DemoData.TABLES

    def check(self) -> CheckResult:
        options = self._options()
        return CheckResult(
            ok=True,
            message=f"demo data is generated locally (seed {options['seed']}, scale {options['scale']}, "
            f"{options['years']} year(s)); nothing external to check",
        )

    def _options(self) -> dict[str, Any]:
        assert isinstance(self.options, DemoOptions)
        demo = self.context.settings.demo
        return {
            "seed": demo.seed if self.options.seed is None else self.options.seed,
            "scale": demo.scale if self.options.scale is None else self.options.scale,
            "years": demo.years if self.options.years is None else self.options.years,
            "as_of": self.options.as_of,
        }

    def read(self, cursor: Mapping[str, Any] | None, *, full: bool = False) -> Iterator[Batch]:
        """A full snapshot every run (the cursor is informative only: the snapshot instant)."""
        data = build_demo(self.context.settings, **self._options())
        state = {"as_of": data.as_of.isoformat()}
        yield Batch("org_unit", data.org_unit, cursor=state, description="areas")
        yield Batch("department", data.department, cursor=state, description="departments and agencies")
        yield Batch("procedure", data.procedure, cursor=state, description="procedures")
        yield Batch(
            "indicator_observation", data.indicator_observation, cursor=state, description="indicators"
        )
        total = len(data.dossier)
        for start in range(0, max(total, 1), DOSSIER_BATCH):
            part = data.dossier.iloc[start : start + DOSSIER_BATCH]
            end = start + len(part)
            yield Batch("dossier", part, cursor=state, description=f"dossiers {start + 1}–{end} of {total}")
        yield Batch("incident", data.incident, cursor=state, description="incidents")
