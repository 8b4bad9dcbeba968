"""The datasets KPIs are defined over: their columns, time anchors and breakdowns.

Like the semantic models of dbt: a KPI names a dataset and its columns; it never holds SQL. Derived
columns (on time, processing days, hours to close…) are SQL expressions built here. Columns marked
`snapshot` depend on a moment T (the end of the period, or `as_of`) and are only allowed in snapshot
KPIs (state at a moment: open and overdue, due soon).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Date, FromClause, Table, and_, case, cast, extract, false, func, or_, true
from sqlalchemy.sql.elements import ColumnElement

from ioc.kpi.periods import LOCAL_TZ_NAME
from ioc.kpi.tables import work_calendar
from ioc.models import Dossier, Incident, IndicatorObservation


def local_date(column: ColumnElement, zone: str = LOCAL_TZ_NAME) -> ColumnElement:
    """The local calendar date of a timestamptz in `zone` (default: the module's Asia/Ho_Chi_Minh)."""
    return cast(func.timezone(zone, column), Date)


class Frame:
    """The FROM clause of one query over a dataset; calendar joins are added when a column needs them."""

    def __init__(self, dataset: Dataset, zone: str = LOCAL_TZ_NAME) -> None:
        self.dataset = dataset
        self.zone = zone
        self.table: Table = dataset.table
        self._calendars: dict[str, FromClause] = {}

    def _calendar(self, column_name: str) -> FromClause:
        if column_name not in self._calendars:
            self._calendars[column_name] = work_calendar.alias(f"wd_{column_name}")
        return self._calendars[column_name]

    def working_day_number(self, column_name: str) -> ColumnElement:
        """Working-day number of the local date of a timestamp column (via `kpi.work_calendar`)."""
        return self._calendar(column_name).c.working_day_number

    def start_day_number(self, column_name: str) -> ColumnElement:
        """Working-day number of the day counting starts from: the local date of the column when it
        is a working day, else the next working day (a receipt on a day off counts from then)."""
        calendar = self._calendar(column_name)
        return calendar.c.working_day_number + case((calendar.c.is_working_day, 0), else_=1)

    def from_clause(self) -> FromClause:
        joined: FromClause = self.table
        for column_name, calendar in self._calendars.items():
            day = local_date(self.table.c[column_name], self.zone)
            joined = joined.outerjoin(calendar, calendar.c.day == day)
        return joined

    def column(self, name: str) -> ColumnElement:
        return self.dataset.columns[name].expression(self)


@dataclass(frozen=True)
class DatasetColumn:
    """A column a KPI may filter on, sum or break down by."""

    name: str
    kind: str  # text, int, number, bool, timestamp
    label: str
    build: Callable[[Frame], ColumnElement] | None = None
    values: tuple[str | int, ...] | None = None
    summable: bool = False
    snapshot: bool = False

    def expression(self, frame: Frame) -> ColumnElement:
        if self.build is not None:
            return self.build(frame)
        return frame.table.c[self.name]


@dataclass(frozen=True)
class Breakdown:
    name: str
    column: str
    label_table: str | None = None  # org_unit, department, procedure: names come from there
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Dataset:
    name: str
    label: str
    table: Table
    columns: dict[str, DatasetColumn]
    times: tuple[str, ...]
    breakdowns: dict[str, Breakdown]
    freshness_column: str
    area_column: str = "org_unit_code"
    #: the state "open at moment T", for snapshot KPIs: (still-open condition, opened column, closed column)
    open_state: tuple[Callable[[Frame], ColumnElement], str, str] | None = None

    def open_at(self, frame: Frame, moment: ColumnElement | datetime) -> ColumnElement:
        """Rows open at `moment`: started by then, and not closed, or closed after it."""
        assert self.open_state is not None
        still_open, opened, closed = self.open_state
        table = frame.table
        return and_(
            table.c[opened] <= moment,
            or_(still_open(frame), table.c[closed] > moment),
        )


def _text(name: str, label: str, values: tuple[str, ...] | None = None) -> DatasetColumn:
    return DatasetColumn(name, "text", label, values=values)


def _timestamp(name: str, label: str) -> DatasetColumn:
    return DatasetColumn(name, "timestamp", label)


def _dossier_on_time(frame: Frame) -> ColumnElement:
    """Decision 766/QĐ-TTg: finished on time when finished ≤ due; no deadline counts as on time."""
    t = frame.table
    return case(
        (t.c.finished_at.is_(None), None),
        (t.c.due_at.is_(None), true()),
        else_=t.c.finished_at <= t.c.due_at,
    )


def _dossier_processing_days(frame: Frame) -> ColumnElement:
    """Working days from receipt to the end of processing (NULL while unfinished), counted from the
    first working day on or after receipt, never below 0 (`WorkCalendar.processing_days`)."""
    days = frame.working_day_number("finished_at") - frame.start_day_number("received_at")
    return case((days < 0, 0), else_=days)  # not greatest(): it would turn NULL into 0


def _incident_hours_to_close(frame: Frame) -> ColumnElement:
    t = frame.table
    return extract("epoch", t.c.closed_at - t.c.reported_at) / 3600.0


def _incident_closed_on_time(frame: Frame) -> ColumnElement:
    t = frame.table
    return case(
        (t.c.closed_at.is_(None), None),
        (t.c.due_at.is_(None), true()),
        else_=t.c.closed_at <= t.c.due_at,
    )


def _snapshot_placeholder(frame: Frame) -> ColumnElement:  # the engine builds these with the moment
    return false()


CHANNEL_LABELS = {"online": "Trực tuyến", "in_person": "Trực tiếp", "postal": "Bưu chính"}
CATEGORY_LABELS = {
    "field_report": "Phản ánh hiện trường",
    "traffic_accident": "Tai nạn giao thông",
    "public_order": "An ninh trật tự",
    "infosec": "An toàn thông tin",
    "fire": "Cháy nổ",
}
SEVERITY_LABELS = {"1": "Nhẹ", "2": "Trung bình", "3": "Nghiêm trọng"}

DOSSIER = Dataset(
    name="dossier",
    label="Hồ sơ thủ tục hành chính",
    table=Dossier.__table__,  # type: ignore[arg-type]
    columns={
        column.name: column
        for column in (
            _text("procedure_code", "Mã thủ tục (MaTTHC)"),
            _text("department_code", "Đơn vị xử lý"),
            _text("org_unit_code", "Địa bàn"),
            _text("channel", "Kênh thực hiện", values=tuple(CHANNEL_LABELS)),
            _timestamp("received_at", "Ngày tiếp nhận"),
            _timestamp("due_at", "Ngày hẹn trả"),
            _timestamp("finished_at", "Ngày kết thúc xử lý"),
            _timestamp("returned_at", "Ngày trả kết quả"),
            DatasetColumn("status", "int", "Trạng thái hồ sơ (1–10)", values=tuple(range(1, 11))),
            DatasetColumn("supplement_count", "int", "Số lần yêu cầu bổ sung", summable=True),
            DatasetColumn(
                "is_finished", "bool", "Đã kết thúc xử lý", build=lambda f: f.table.c.finished_at.isnot(None)
            ),
            DatasetColumn("on_time", "bool", "Kết thúc đúng hạn (≤ ngày hẹn trả)", build=_dossier_on_time),
            DatasetColumn(
                "processing_days",
                "number",
                "Số ngày làm việc xử lý",
                build=_dossier_processing_days,
                summable=True,
            ),
            DatasetColumn("overdue", "bool", "Quá hạn tại thời điểm", _snapshot_placeholder, snapshot=True),
            DatasetColumn(
                "due_in_working_days",
                "int",
                "Số ngày làm việc còn lại đến hạn",
                _snapshot_placeholder,
                snapshot=True,
            ),
        )
    },
    times=("received_at", "finished_at", "returned_at", "due_at"),
    breakdowns={
        "area": Breakdown("area", "org_unit_code", "org_unit"),
        "department": Breakdown("department", "department_code", "department"),
        "procedure": Breakdown("procedure", "procedure_code", "procedure"),
        "channel": Breakdown("channel", "channel", labels=CHANNEL_LABELS),
    },
    freshness_column="updated_at",
    open_state=(lambda f: f.table.c.finished_at.is_(None), "received_at", "finished_at"),
)

INCIDENT = Dataset(
    name="incident",
    label="Sự cố, phản ánh",
    table=Incident.__table__,  # type: ignore[arg-type]
    columns={
        column.name: column
        for column in (
            _text("category", "Loại sự cố", values=tuple(CATEGORY_LABELS)),
            _text("service_code", "Mã dịch vụ"),
            _text("org_unit_code", "Địa bàn"),
            _text("status", "Trạng thái", values=("open", "closed")),
            DatasetColumn("severity", "int", "Mức độ (1–3)", values=(1, 2, 3)),
            _timestamp("reported_at", "Thời điểm tiếp nhận"),
            _timestamp("due_at", "Hạn xử lý"),
            _timestamp("closed_at", "Thời điểm đóng"),
            DatasetColumn(
                "hours_to_close", "number", "Số giờ xử lý", build=_incident_hours_to_close, summable=True
            ),
            DatasetColumn("closed_on_time", "bool", "Đóng đúng hạn", build=_incident_closed_on_time),
            DatasetColumn("overdue", "bool", "Quá hạn tại thời điểm", _snapshot_placeholder, snapshot=True),
        )
    },
    times=("reported_at", "closed_at", "due_at"),
    breakdowns={
        "area": Breakdown("area", "org_unit_code", "org_unit"),
        "category": Breakdown("category", "category", labels=CATEGORY_LABELS),
        "severity": Breakdown("severity", "severity", labels=SEVERITY_LABELS),
    },
    freshness_column="updated_at",
    open_state=(lambda f: f.table.c.status == "open", "reported_at", "closed_at"),
)

INDICATOR = Dataset(
    name="indicator",
    label="Chỉ tiêu kinh tế - xã hội",
    table=IndicatorObservation.__table__,  # type: ignore[arg-type]
    columns={
        column.name: column
        for column in (
            _text("indicator", "Mã chỉ tiêu"),
            _text("org_unit_code", "Địa bàn"),
            _text("grain", "Kỳ", values=("day", "week", "month", "quarter", "year")),
            _text("status", "Cờ trạng thái của nguồn"),
            DatasetColumn("value", "number", "Giá trị", summable=True),
        )
    },
    times=("period_start",),
    breakdowns={"area": Breakdown("area", "org_unit_code", "org_unit")},
    freshness_column="loaded_at",
)

DATASETS: dict[str, Dataset] = {dataset.name: dataset for dataset in (DOSSIER, INCIDENT, INDICATOR)}

#: Datasets whose rows are counted and summed (count, sum, ratio, percentile KPIs).
FACT_DATASETS = ("dossier", "incident")


def get_dataset(name: str) -> Dataset:
    return DATASETS[name]
