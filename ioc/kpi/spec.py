"""The typed model of `kpi_definitions/*.yaml` and its loader.

One YAML file per domain::

    domain: public_services
    kpis:
      - id: dossiers_on_time_rate
        name: {vi: Tỷ lệ hồ sơ đúng hạn, en: On-time rate}
        type: ratio
        dataset: dossier
        numerator: {time: finished_at, filters: [{field: on_time, op: eq, value: true}]}
        denominator: {time: finished_at}
        …

Every problem found — a YAML error, an unknown field, an unknown dataset or column, a missing KPI, a
cycle — becomes a :class:`SpecIssue` naming the file, the KPI id and the field; :func:`load_library`
raises :class:`KpiSpecError` with all of them at once.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ioc.config import parse_duration

KpiType = Literal["count", "sum", "ratio", "percentile", "latest", "growth", "derived"]
Grain = Literal["day", "week", "month", "quarter", "year"]
BreakdownName = Literal["area", "department", "procedure", "channel", "category", "severity"]
FilterOp = Literal["eq", "ne", "in", "not_in", "lt", "le", "gt", "ge", "is_null", "not_null"]
Direction = Literal["higher_is_better", "lower_is_better", "neutral"]
Compare = Literal["previous_period", "same_period_last_year"]

KPI_ID_PATTERN = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    """A label in Vietnamese (first) and English."""

    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Filter(_Strict):
    """`field op value` over a dataset's column; values are bound as parameters, never spliced."""

    field: str
    op: FilterOp = "eq"
    value: Any = None


class MeasureSpec(_Strict):
    """A numerator or denominator: count rows, or sum a column, anchored on a time column or a moment."""

    agg: Literal["count", "sum"] = "count"
    measure: str | None = None
    time: str | None = None
    snapshot: bool | None = None
    filters: tuple[Filter, ...] = ()


class Target(_Strict):
    """A target; the most specific one (area and year > year > area > default) applies."""

    value: float
    year: int | None = None
    area: str | None = None


class Thresholds(_Strict):
    """Status colours. `basis: value` compares the value itself; `percent_of_target` compares
    value / target × 100. With higher_is_better: ≥ green is green, ≥ amber is amber, else red
    (reversed for lower_is_better)."""

    green: float
    amber: float
    basis: Literal["value", "percent_of_target"] = "value"


class Kpi(_Strict):
    id: Annotated[str, Field(pattern=KPI_ID_PATTERN)]
    name: Text
    description: Text | None = None
    unit: Text
    type: KpiType
    # facts: count, sum, ratio, percentile
    dataset: str | None = None
    time: str | None = None
    snapshot: bool = False
    filters: tuple[Filter, ...] = ()
    measure: str | None = None
    numerator: MeasureSpec | None = None
    denominator: MeasureSpec | None = None
    scale: float = 1.0
    percentile: float | None = Field(default=None, gt=0, lt=1)
    # indicator series: latest
    indicator: str | None = None
    indicator_grain: Grain | None = None
    aggregation: Literal["last", "sum"] = "last"
    to_date: Literal["year"] | None = None
    area_rollup: Literal["sum", "none"] = "sum"
    # growth and derived
    base: str | None = None
    compare: Compare = "previous_period"
    expression: str | None = None
    # presentation and governance
    grain: Grain = "month"
    breakdowns: tuple[BreakdownName, ...] = ()
    direction: Direction = "higher_is_better"
    targets: tuple[Target, ...] = ()
    thresholds: Thresholds | None = None
    freshness: str
    owner: str = Field(min_length=1, description="owner department")
    legal_source: str | None = None
    headline: bool = False
    decimals: int = Field(default=0, ge=0, le=4)

    @field_validator("freshness")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def freshness_delta(self) -> timedelta:
        return parse_duration(self.freshness)

    def target_for(self, year: int, area: str) -> float | None:
        """The target that applies to `year` and `area`, or None."""
        best: tuple[int, float] | None = None
        for target in self.targets:
            if target.year is not None and target.year != year:
                continue
            if target.area is not None and target.area != area:
                continue
            rank = (2 if target.year is not None else 0) + (1 if target.area is not None else 0)
            if best is None or rank > best[0]:
                best = (rank, target.value)
        return None if best is None else best[1]

    def parts(self) -> dict[str, MeasureSpec]:
        """The measures a fact KPI aggregates, with the KPI-level time, snapshot and filters merged in."""
        if self.type == "ratio":
            assert self.numerator is not None and self.denominator is not None
            return {"numerator": self._merge(self.numerator), "denominator": self._merge(self.denominator)}
        agg = "count" if self.type == "count" else "sum"
        return {
            "value": MeasureSpec(
                agg=agg, measure=self.measure, time=self.time, snapshot=self.snapshot, filters=self.filters
            )
        }

    def _merge(self, part: MeasureSpec) -> MeasureSpec:
        return MeasureSpec(
            agg=part.agg,
            measure=part.measure,
            time=part.time or self.time,
            snapshot=self.snapshot if part.snapshot is None else part.snapshot,
            filters=self.filters + part.filters,
        )

    def references(self) -> set[str]:
        """KPI ids this KPI is computed from."""
        from ioc.kpi import expressions

        refs = set()
        if self.type == "growth" and self.base:
            refs.add(self.base)
        if self.type == "derived" and self.expression:
            with contextlib.suppress(expressions.ExpressionError):
                refs |= expressions.names(self.expression)
        return refs


class _File(_Strict):
    domain: str
    kpis: list[dict[str, Any]]


@dataclass(frozen=True)
class SpecIssue:
    """One problem in a definition file, with where it is."""

    file: str
    kpi: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: KPI {self.kpi}: {self.field}: {self.message}"


class KpiSpecError(Exception):
    """The KPI definitions have errors; `issues` lists every one of them."""

    def __init__(self, issues: list[SpecIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


class KpiNotFound(KeyError):
    def __str__(self) -> str:
        return f"unknown KPI {self.args[0]!r}"


@dataclass
class KpiLibrary:
    """Every KPI by id, with the file and domain it came from."""

    kpis: dict[str, Kpi] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    domains: dict[str, str] = field(default_factory=dict)

    def get(self, kpi_id: str) -> Kpi:
        try:
            return self.kpis[kpi_id]
        except KeyError:
            raise KpiNotFound(kpi_id) from None

    def __contains__(self, kpi_id: object) -> bool:
        return kpi_id in self.kpis

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.kpis.values())

    def __len__(self) -> int:
        return len(self.kpis)

    def headline(self) -> list[Kpi]:
        return [kpi for kpi in self.kpis.values() if kpi.headline]

    def in_domain(self, domain: str) -> list[Kpi]:
        return [kpi for kpi in self.kpis.values() if self.domains[kpi.id] == domain]


def _field_name(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "-"


def _message(error: dict[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field"
    if error["type"] == "missing":
        return "required field is missing"
    return str(error["msg"])


def parse_file(path: Path, library: KpiLibrary, issues: list[SpecIssue]) -> None:
    """Parse one YAML file into `library`, appending problems to `issues`."""
    name = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        issues.append(SpecIssue(name, "-", "-", f"cannot read YAML: {exc}"))
        return
    try:
        document = _File.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            issues.append(SpecIssue(name, "-", _field_name(error["loc"]), _message(error)))
        return
    for index, entry in enumerate(document.kpis):
        kpi_id = str(entry.get("id") or f"#{index + 1}") if isinstance(entry, dict) else f"#{index + 1}"
        try:
            kpi = Kpi.model_validate(entry)
        except ValidationError as exc:
            for error in exc.errors():
                issues.append(SpecIssue(name, kpi_id, _field_name(error["loc"]), _message(error)))
            continue
        if kpi.id in library.kpis:
            other = library.files[kpi.id].name
            issues.append(SpecIssue(name, kpi.id, "id", f"duplicate KPI id (also defined in {other})"))
            continue
        library.kpis[kpi.id] = kpi
        library.files[kpi.id] = path
        library.domains[kpi.id] = document.domain


def check_library(kpi_dir: Path | str) -> tuple[KpiLibrary, list[SpecIssue]]:
    """Parse and validate every `*.yaml` in `kpi_dir`; return the library and all issues found."""
    from ioc.kpi.checks import run_checks

    directory = Path(kpi_dir)
    library = KpiLibrary()
    issues: list[SpecIssue] = []
    files = sorted(directory.glob("*.yaml")) if directory.is_dir() else []
    if not files:
        issues.append(SpecIssue(str(directory), "-", "-", "no KPI definition files (*.yaml) found"))
    for path in files:
        parse_file(path, library, issues)
    issues.extend(run_checks(library))
    return library, issues


def load_library(kpi_dir: Path | str) -> KpiLibrary:
    """The validated KPI library; raises :class:`KpiSpecError` listing every problem."""
    library, issues = check_library(kpi_dir)
    if issues:
        raise KpiSpecError(issues)
    return library
