"""Property-based tests of the drop folders (hypothesis): hostile files and names, through the real runner.

Whatever lands in the folder — CSV in any encoding with NULs, quotes and stray delimiters, JSON of any
shape and depth, real or fake workbooks, links to a secret outside the folder or to
/proc/self/environ, FIFOs, hard links, odd names — the run ends `success` or `partial`, no exception
escapes, every waiting file ends in `done/` or `failed/`, nothing outside the folder is read, and no
reason (file, rejected row, run error) quotes a file's contents.

100 examples per test by default (about a minute each here); `IOC_HYPOTHESIS_EXAMPLES=N` for more.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from ioc.models import ALL_TABLES
from ioc.runner import run_source
from tests.fixtures.events.support import rows, settings_with_source

INSIDE = "CANARYIN"  # planted in every generated file: must never appear in a reason
OUTSIDE = "CANARYOUT"  # a valid record outside the folder: must never be loaded or quoted
ENVIRON = "CANARYENV"  # in the process environment: must never appear anywhere
HEADER = ["MaHoSo", "MaTTHC", "DonViXuLy", "NgayTiepNhan", "NgayHenTra", "TrangThaiHoSo", "KenhThucHien"]
GOOD = ["H-1", "1.001612", "Sở Xây dựng", "20250715083000", "20250730170000", "4", "1"]
WANTED = {"dossiers": (".json", ".csv", ".xlsx", ".xlsm"), "files": (".csv", ".xlsx", ".xlsm")}
IGNORED_PREFIXES = (".", "~$")
IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload", ".reason.txt", "#")

EXAMPLES = settings(
    max_examples=int(os.environ.get("IOC_HYPOTHESIS_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)

# --------------------------------------------------------------------------- strategies

cell_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["", " ", '"', '""', ";", ",", "\t", "|", "\n", "\r\n", "\x00", "\ufeff", "=1+1", "..", "1,5"]
    ),
    st.just(INSIDE),
    st.sampled_from(GOOD),
    st.sampled_from(["99999999999999", "00000000000000", "29990101000000", "20250230120000", "-1", "1e309"]),
)


@st.composite
def csv_bytes(draw: st.DrawFn) -> bytes:
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    columns = draw(
        st.lists(st.sampled_from([*HEADER, INSIDE, "ChuHoSo", "SoDienThoai", ""]), min_size=1, max_size=9)
    )
    body = draw(st.lists(st.lists(cell_text, min_size=0, max_size=len(columns) + 2), max_size=12))
    lines = [delimiter.join(columns), *(delimiter.join([*row, INSIDE][: max(len(row), 1)]) for row in body)]
    content = draw(st.sampled_from(["\n", "\r\n"])).join(lines)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1258"]))
    return content.encode(encoding, errors="replace")


json_value = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True),
        st.text(max_size=20),
        st.just(INSIDE),
    ),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from([*HEADER, INSIDE, "data"]), inner)
    ),
    max_leaves=25,
)


@st.composite
def json_bytes(draw: st.DrawFn) -> bytes:
    choice = draw(st.integers(0, 4))
    if choice == 0:  # records in the DVCQG shape with hostile values
        records = draw(st.lists(st.dictionaries(st.sampled_from(HEADER), cell_text | json_value), max_size=8))
        return json.dumps({"data": [*records, {"MaHoSo": INSIDE}]}).encode()
    if choice == 1:
        return json.dumps(draw(json_value)).encode()
    if choice == 2:
        depth = draw(st.integers(1, 50_000))
        return ("[" * depth + f'"{INSIDE}"' + "]" * draw(st.integers(0, depth))).encode()
    if choice == 3:
        return draw(st.binary(max_size=200)) + INSIDE.encode()
    return (draw(st.text(max_size=200)) + INSIDE).encode("utf-8", errors="replace")


xlsx_cell = st.one_of(
    st.none(),
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=20),
    st.sampled_from(GOOD),
    st.just(INSIDE),
)


@st.composite
def xlsx_bytes(draw: st.DrawFn) -> bytes:
    choice = draw(st.integers(0, 3))
    if choice == 0:  # a real workbook with hostile cells, maybe a title above the header
        book = openpyxl.Workbook()
        sheet = book.active
        if draw(st.booleans()):
            sheet.append([INSIDE])
        sheet.append(draw(st.lists(st.sampled_from([*HEADER, INSIDE]), min_size=1, max_size=8)))
        for row in draw(st.lists(st.lists(xlsx_cell, max_size=9), max_size=10)):
            sheet.append([*row, INSIDE])
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
    if choice == 1:  # a zip that is not a workbook
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name in draw(
                st.lists(
                    st.sampled_from(["[Content_Types].xml", "xl/workbook.xml", "a.txt"]),
                    max_size=3,
                    unique=True,
                )
            ):
                archive.writestr(name, INSIDE + draw(st.text(max_size=50)))
        return buffer.getvalue()
    if choice == 2:
        return b"PK\x03\x04" + draw(st.binary(max_size=300)) + INSIDE.encode()
    return draw(st.binary(max_size=300)) + INSIDE.encode()


name_chars = st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",))
stems = st.text(name_chars, min_size=1, max_size=40).filter(
    lambda s: s not in (".", "..") and len(s.encode()) < 180
)
suffixes = st.sampled_from([".csv", ".CSV", ".json", ".JSON", ".xlsx", ".xlsm", ".csv.part", ".txt", ".tmp"])
kinds = st.sampled_from(
    ["csv", "json", "xlsx", "link-outside", "link-environ", "link-dir", "fifo", "hardlink", "directory"]
)


@st.composite
def drops(draw: st.DrawFn) -> list[tuple[str, str, bytes]]:
    """(file name, kind, contents) of 1–4 files; names are unique."""
    files: dict[str, tuple[str, bytes]] = {}
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(kinds)
        suffix = draw(suffixes)
        if kind in ("csv", "json", "xlsx") and draw(st.booleans()):
            suffix = {"csv": ".csv", "json": ".json", "xlsx": ".xlsx"}[kind]
        content = {"csv": csv_bytes, "json": json_bytes, "xlsx": xlsx_bytes}.get(kind, lambda: st.just(b""))()
        files[draw(stems) + suffix] = (kind, draw(content))
    return [(name, kind, content) for name, (kind, content) in files.items()]


# --------------------------------------------------------------------------- the property


def waiting(name: str, wanted: tuple[str, ...]) -> bool:
    lowered = name.lower()
    if name.startswith(IGNORED_PREFIXES) or name.endswith(IGNORED_SUFFIXES):
        return False
    return any(lowered.endswith(s) for s in wanted)


def plant(folder: Path, outside: Path, name: str, kind: str, content: bytes) -> None:
    path = folder / name
    if kind == "link-outside":
        path.symlink_to(outside)
    elif kind == "link-environ":
        path.symlink_to("/proc/self/environ")
    elif kind == "link-dir":
        path.symlink_to(outside.parent)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "hardlink":
        os.link(outside, path)
    elif kind == "directory":
        path.mkdir()
    else:
        path.write_bytes(content)


def said(engine: Engine, folder: Path) -> tuple[str, str]:
    """(reason files, rejected rows' reasons and runs' errors: never quoting a file; stored records)."""
    reasons = [p.read_text("utf-8", errors="replace") for p in (folder / "failed").glob("*.reason.txt")]
    found = rows(engine, "SELECT reason, record::text AS record FROM rejected_row")
    errors = rows(engine, "SELECT coalesce(error, '') AS error FROM connector_run")
    texts = "\n".join([*reasons, *(r["reason"] for r in found), *(r["error"] for r in errors)])
    return texts, "\n".join(r["record"] for r in found)


def check_one_run(
    engine: Engine, connector: str, options: dict[str, Any], files: list[tuple[str, str, bytes]]
) -> None:
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(ALL_TABLES)} RESTART IDENTITY CASCADE"))
    home = Path(tempfile.mkdtemp(prefix="ioc_drop_prop_"))
    try:
        outside = home / "outside.json"
        outside.write_text(
            json.dumps([dict(zip(HEADER, [OUTSIDE, *GOOD[1:]], strict=True))]), encoding="utf-8"
        )
        settings_ = settings_with_source(home, "src", connector, {"settle_seconds": 0, **options})
        folder = settings_.drop_dir / "src"
        folder.mkdir(parents=True)
        for name, kind, content in files:
            plant(folder, outside, name, kind, content)

        summary = run_source(engine, settings_, "src")  # must not raise

        assert summary.status in ("success", "partial"), summary.error
        for name, kind, _ in files:
            if waiting(name, WANTED[connector]) and kind != "directory":  # ends in done/ or failed/
                assert os.path.lexists(folder / "done" / name) or os.path.lexists(folder / "failed" / name), (
                    name
                )
                assert not os.path.lexists(folder / name), name
            else:  # the rest is left alone
                assert os.path.lexists(folder / name), name
        reasons, records = said(engine, folder)
        everything = f"{reasons}\n{records}"
        assert INSIDE not in reasons
        assert OUTSIDE not in everything and ENVIRON not in everything
        stored = rows(engine, "SELECT code FROM dossier") if connector == "dossiers" else []
        assert OUTSIDE not in {r["code"] for r in stored}
        assert outside.read_text("utf-8").count(OUTSIDE) == 1  # untouched
    finally:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def planted_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_TEST_PLANTED_SECRET", f"postgresql://ioc:{ENVIRON}@db/ioc")


@pytest.mark.slow
@EXAMPLES
@given(files=drops())
def test_dossier_drops_end_with_a_status_and_never_leak(
    engine: Engine, planted_environ: None, files: list
) -> None:
    check_one_run(engine, "dossiers", {}, files)


@pytest.mark.slow
@EXAMPLES
@given(files=drops(), target=st.sampled_from(["indicator_observation", "incident"]))
def test_files_drops_end_with_a_status_and_never_leak(
    engine: Engine, planted_environ: None, files: list, target: str
) -> None:
    if target == "indicator_observation":
        options = {
            "target": target,
            "columns": {
                "indicator": "MaHoSo",
                "org_unit_code": "MaTTHC",
                "period": "NgayTiepNhan",
                "value": "TrangThaiHoSo",
            },
        }
    else:
        options = {
            "target": target,
            "columns": {"external_id": "MaHoSo", "reported_at": "NgayTiepNhan", "status": "KenhThucHien"},
            "constants": {"category": "fire"},
        }
    check_one_run(engine, "files", options, files)
