"""The typed model of `kpi_definitions/*.yaml` and its loader.

One YAML file per domain; `defaults` apply to every KPI of the file that does not set the field::

    domain: public_services
    defaults: {owner: Văn phòng UBND tỉnh, freshness: 1d, dataset: dossier}
    kpis:
      - id: dossiers_on_time_rate
        name: {vi: Tỷ lệ hồ sơ đúng hạn, en: On-time rate}
        type: ratio
        dataset: dossier
        numerator: {time: finished_at, filters: [{field: on_time, op: eq, value: true}]}
        denominator: {time: finished_at}
        …

A KPI is one of a per-type union (`type` is the discriminator): :class:`CountKpi`, :class:`SumKpi`,
:class:`RatioKpi`, :class:`PercentileKpi` (facts over a dataset, :class:`FactKpi`), :class:`LatestKpi`
(an indicator series), :class:`GrowthKpi` and :class:`DerivedKpi` (computed from other KPIs); each
has only its own fields.

Every problem found — a YAML error, an unknown field, an unknown dataset or column, a missing KPI, a
cycle — becomes a :class:`SpecIssue` naming the file, the KPI id and the field; :func:`load_library`
raises :class:`KpiSpecError` with all of them at once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError, field_validator

from ioc.config import parse_duration

Grain = Literal["day", "week", "month", "quarter", "year"]
BreakdownName = Literal["area", "department", "procedure", "channel", "category", "severity"]
FilterOp = Literal["eq", "ne", "in", "not_in", "lt", "le", "gt", "ge", "is_null", "not_null"]
Direction = Literal["higher_is_better", "lower_is_better", "neutral"]
Compare = Literal["previous_period", "same_period_last_year"]

KPI_ID_PATTERN = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


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


class _KpiBase(_Strict):
    """What every KPI has: names, unit, presentation and governance."""

    id: Annotated[str, Field(pattern=KPI_ID_PATTERN)]
    name: Text
    description: Text | None = None
    unit: Text
    compare: Compare = "previous_period"
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

    def references(self) -> set[str]:
        """KPI ids this KPI is computed from."""
        return set()


class FactKpi(_KpiBase):
    """Counted or summed over a dataset's rows (count, sum, ratio, percentile)."""

    dataset: str
    time: str | None = None
    snapshot: bool = False
    filters: tuple[Filter, ...] = ()
    scale: float = 1.0

    def parts(self) -> dict[str, MeasureSpec]:
        """The measures the KPI aggregates, with the KPI-level time, snapshot and filters merged in."""
        return {
            "value": MeasureSpec(
                agg="count", measure=None, time=self.time, snapshot=self.snapshot, filters=self.filters
            )
        }


class CountKpi(FactKpi):
    type: Literal["count"]


class _MeasuredKpi(FactKpi):
    measure: str

    def parts(self) -> dict[str, MeasureSpec]:
        return {
            "value": MeasureSpec(
                agg="sum", measure=self.measure, time=self.time, snapshot=self.snapshot, filters=self.filters
            )
        }


class SumKpi(_MeasuredKpi):
    type: Literal["sum"]


class PercentileKpi(_MeasuredKpi):
    """A percentile of the measure (e.g. the median hours to close) over the rows of the period."""

    type: Literal["percentile"]
    time: str
    snapshot: Literal[False] = False
    percentile: float = Field(gt=0, lt=1)


class RatioKpi(FactKpi):
    type: Literal["ratio"]
    numerator: MeasureSpec
    denominator: MeasureSpec

    def parts(self) -> dict[str, MeasureSpec]:
        return {"numerator": self._merge(self.numerator), "denominator": self._merge(self.denominator)}

    def _merge(self, part: MeasureSpec) -> MeasureSpec:
        return MeasureSpec(
            agg=part.agg,
            measure=part.measure,
            time=part.time or self.time,
            snapshot=self.snapshot if part.snapshot is None else part.snapshot,
            filters=self.filters + part.filters,
        )


class LatestKpi(_KpiBase):
    """The value of an indicator series (`indicator_observation`): the last one, or summed to date."""

    type: Literal["latest"]
    indicator: str
    indicator_grain: Grain
    aggregation: Literal["last", "sum"] = "last"
    to_date: Literal["year"] | None = None
    area_rollup: Literal["sum", "none"] = "sum"


class GrowthKpi(_KpiBase):
    """Growth (%) of another KPI against the compared period."""

    type: Literal["growth"]
    base: str

    def references(self) -> set[str]:
        return {self.base}


class DerivedKpi(_KpiBase):
    """Arithmetic over other KPIs (`ioc.kpi.expressions`)."""

    type: Literal["derived"]
    expression: str

    def references(self) -> set[str]:
        from ioc.kpi import expressions

        with contextlib.suppress(expressions.ExpressionError):
            return expressions.names(self.expression)
        return set()


Kpi = Annotated[
    CountKpi | SumKpi | RatioKpi | PercentileKpi | LatestKpi | GrowthKpi | DerivedKpi,
    Field(discriminator="type"),
]
KPI_MODELS: dict[str, type[_KpiBase]] = {
    "count": CountKpi,
    "sum": SumKpi,
    "ratio": RatioKpi,
    "percentile": PercentileKpi,
    "latest": LatestKpi,
    "growth": GrowthKpi,
    "derived": DerivedKpi,
}


class _AnyKpi(RootModel[Kpi]):
    """Validates one KPI entry into its type's model."""


#: Fields some KPI type has (a default may name them; a KPI of another type ignores them).
KPI_FIELDS = frozenset(name for model in KPI_MODELS.values() for name in model.model_fields)


#: Fields a file's `defaults:` may not set (they identify a KPI).
_NOT_DEFAULTS = frozenset({"id", "type", "name"})


class _File(_Strict):
    domain: str
    #: values every KPI of the file takes unless it sets its own (owner, freshness, legal_source…);
    #: a KPI whose type has no such field ignores it (e.g. `dataset` for a derived KPI).
    defaults: dict[str, Any] = Field(default_factory=dict)
    kpis: list[dict[str, Any]]

    @field_validator("defaults")
    @classmethod
    def _known(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - (KPI_FIELDS - _NOT_DEFAULTS))
        if unknown:
            raise ValueError(f"not a field a default can set: {', '.join(map(str, unknown))}")
        return value


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

    def __iter__(self) -> Iterator[Kpi]:
        return iter(self.kpis.values())

    def __len__(self) -> int:
        return len(self.kpis)

    def headline(self) -> list[Kpi]:
        return [kpi for kpi in self.kpis.values() if kpi.headline]

    def in_domain(self, domain: str) -> list[Kpi]:
        return [kpi for kpi in self.kpis.values() if self.domains[kpi.id] == domain]


def _field_name(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "-"


def _message(error: Mapping[str, Any], kpi_type: str | None = None) -> str:
    top_level = kpi_type is not None and len(error["loc"]) == 1
    if error["type"] == "extra_forbidden":
        if top_level and error["loc"][0] in KPI_FIELDS:
            return f"not used by a {kpi_type} KPI"
        return "unknown field"
    if error["type"] == "missing":
        return f"required for a {kpi_type} KPI" if top_level else "required field is missing"
    return str(error["msg"]).removeprefix("Value error, ")


def _with_defaults(entry: dict[str, Any], defaults: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """The entry with the file's defaults for the fields its type has and it does not set itself."""
    model = KPI_MODELS.get(str(entry.get("type")))
    if model is None:
        return entry, set()
    taken = {key for key in defaults if key not in entry and key in model.model_fields}
    return {**{key: defaults[key] for key in taken}, **entry}, taken


def _kpi_issues(
    name: str, kpi_id: str, entry: dict[str, Any], taken: set[str], exc: ValidationError
) -> Iterator[SpecIssue]:
    """Pydantic's errors as issues: the tag (`count`, `ratio`…) dropped from the location, and a field
    the file's defaults gave named as `defaults.<field>`."""
    kpi_type = str(entry.get("type"))
    for error in exc.errors():
        loc = tuple(error["loc"])
        if error["type"].startswith("union_tag"):
            yield SpecIssue(name, kpi_id, "type", _message(error))
            continue
        if loc and loc[0] == kpi_type:
            loc = loc[1:]
        error = {**error, "loc": loc}
        where = _field_name(loc)
        if loc and loc[0] in taken:
            where = f"defaults.{where}"
        yield SpecIssue(name, kpi_id, where, _message(error, kpi_type))


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
        kpi_id = str(entry.get("id") or f"#{index + 1}")
        merged, taken = _with_defaults(entry, document.defaults)
        try:
            kpi = _AnyKpi.model_validate(merged).root
        except ValidationError as exc:
            issues.extend(_kpi_issues(name, kpi_id, merged, taken, exc))
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


def accumulates(kpi: Kpi) -> bool:
    """A count or sum of what happened in the period (not a snapshot, a ratio or a percentile): over a
    period still running it is a part of the whole, no trend against a whole period."""
    return isinstance(kpi, FactKpi) and kpi.type in ("count", "sum") and not kpi.snapshot


def load_library(kpi_dir: Path | str) -> KpiLibrary:
    """The validated KPI library; raises :class:`KpiSpecError` listing every problem."""
    library, issues = check_library(kpi_dir)
    if issues:
        raise KpiSpecError(issues)
    return library
