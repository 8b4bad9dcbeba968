"""Drop folders are a boundary: only regular files directly inside are read, within limits, and
nothing of a file's contents reaches a reason file, a rejected row or a run's error."""

from __future__ import annotations

import codecs
import io
import json
import os
import threading
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine

from connectors.drop import DONE, FAILED, DropOptions, read_drop_folder, remove_expired
from ioc.config import Settings
from ioc.runner import run_source
from tests.fixtures.events.support import make, pull, rejected_text, rows, settings_with_source

SECRET = "postgresql://ioc:S3cr3t-Passw0rd@db.internal/ioc"
HEADER = ["MaHoSo", "MaTTHC", "DonViXuLy", "NgayTiepNhan", "NgayHenTra", "TrangThaiHoSo", "KenhThucHien"]


def dossier_row(i: int) -> list[str]:
    return [f"H-{i}", "1.001612", "Sở Xây dựng", "20250715083000", "20250730170000", "4", "1"]


def csv_text(n: int, delimiter: str = ";", start: int = 0) -> str:
    lines = [delimiter.join(HEADER)] + [delimiter.join(dossier_row(i)) for i in range(start, start + n)]
    return "\n".join(lines) + "\n"


def reasons(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text("utf-8") for p in (folder / FAILED).glob("*.reason.txt")}


def everything_said(db: Engine, folder: Path) -> str:
    """Every text the intake wrote about the files: reason files, rejected rows, runs' errors."""
    errors = rows(db, "SELECT coalesce(string_agg(error, ' '), '') AS e FROM connector_run")[0]["e"]
    return "\n".join([*reasons(folder).values(), rejected_text(db), errors])


@pytest.fixture
def folder(settings: Settings) -> Path:
    path = settings.drop_dir / "src"
    path.mkdir(parents=True)
    return path


def dossiers(settings: Settings, **options: object):  # type: ignore[no-untyped-def]
    return make("dossiers", {"settle_seconds": 0, **options}, settings)


def test_symlinks_are_never_followed_and_their_targets_never_echoed(
    db: Engine, settings: Settings, folder: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_text(f"MaHoSo;DATABASE_URL\nH-1;{SECRET}\n", encoding="utf-8")
    (folder / "a_outside.csv").symlink_to(outside)
    (folder / "b_environ.csv").symlink_to("/proc/self/environ")
    (folder / "c_dir.json").symlink_to(tmp_path)
    (folder / "d_good.csv").write_text(csv_text(2), encoding="utf-8")
    os.environ["IOC_TEST_SECRET"] = SECRET  # what /proc/self/environ would hand out
    try:
        pulled = pull(db, dossiers(settings))
    finally:
        del os.environ["IOC_TEST_SECRET"]
    assert (pulled.result.inserted, pulled.result.rejected) == (2, 3)
    assert outside.read_text("utf-8").endswith(f"{SECRET}\n")  # the target is untouched
    failed = sorted(p.name for p in (folder / FAILED).iterdir() if not p.name.endswith(".txt"))
    assert failed == ["a_outside.csv", "b_environ.csv", "c_dir.json"]
    assert all((folder / FAILED / name).is_symlink() for name in failed)  # the links moved, not read
    said = everything_said(db, folder)
    assert "symbolic link" in reasons(folder)["b_environ.csv.reason.txt"]
    for secret in (SECRET, "S3cr3t", "DATABASE_URL", "PATH=", "/proc/self/environ", str(outside)):
        assert secret not in said
    assert [r["code"] for r in rows(db, "SELECT code FROM dossier ORDER BY code")] == ["H-0", "H-1"]


def test_fifo_and_hard_link_are_refused_without_blocking(
    db: Engine, settings: Settings, folder: Path, tmp_path: Path
) -> None:
    os.mkfifo(folder / "pipe.csv")
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps([{"MaHoSo": SECRET}]), encoding="utf-8")
    os.link(outside, folder / "linked.json")
    done = threading.Event()
    result: list[object] = []

    def run() -> None:
        result.append(pull(db, dossiers(settings)))
        done.set()

    threading.Thread(target=run, daemon=True).start()
    if not done.wait(30):
        with open(folder / "pipe.csv", "w"):  # unblock the reader before failing
            pass
        pytest.fail("reading the drop folder blocked on a FIFO")
    said = reasons(folder)
    assert "FIFO" in said["pipe.csv.reason.txt"]
    assert "hard links" in said["linked.json.reason.txt"]
    assert SECRET not in everything_said(db, folder)


def _xlsx_bytes(rows_: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows_:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _rewrite_sheet(data: bytes, change) -> bytes:  # type: ignore[no-untyped-def]
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = change(content)
            target.writestr(item, content)
    return out.getvalue()


def test_an_xlsx_declaring_300000_rows_fails_before_any_row_is_read(
    db: Engine, settings: Settings, folder: Path
) -> None:
    small = _xlsx_bytes([HEADER, dossier_row(1)])
    declared = _rewrite_sheet(small, lambda xml: xml.replace(b'ref="A1:G2"', b'ref="A1:G300000"'))
    assert b'ref="A1:G300000"' in zipfile.ZipFile(io.BytesIO(declared)).read("xl/worksheets/sheet1.xml")
    (folder / "declared.xlsx").write_bytes(declared)
    started = time.monotonic()
    pulled = pull(db, dossiers(settings))
    assert time.monotonic() - started < 5
    assert pulled.result.inserted == 0
    assert "declares 300000 rows, more than max_rows=200000" in reasons(folder)["declared.xlsx.reason.txt"]


def test_an_xlsx_without_a_dimension_is_counted_while_read(
    db: Engine, settings: Settings, folder: Path
) -> None:
    many = _xlsx_bytes([HEADER, *(dossier_row(i) for i in range(100))])
    undeclared = _rewrite_sheet(many, lambda xml: xml.replace(b'<dimension ref="A1:G101" />', b""))
    assert b"<dimension" not in zipfile.ZipFile(io.BytesIO(undeclared)).read("xl/worksheets/sheet1.xml")
    (folder / "many.xlsx").write_bytes(undeclared)
    pulled = pull(db, dossiers(settings, max_rows=50))
    assert pulled.result.inserted == 0
    assert "more than max_rows=50 rows" in reasons(folder)["many.xlsx.reason.txt"]


def test_rejected_rows_cap_fails_the_file_with_a_clear_reason(
    db: Engine, settings: Settings, folder: Path
) -> None:
    bad = csv_text(30).replace("20250715083000", "hôm qua")  # every row: received date is not a date
    (folder / "a_bad.csv").write_text(bad, encoding="utf-8")
    (folder / "b_good.csv").write_text(csv_text(3, start=100), encoding="utf-8")
    os.utime(folder / "a_bad.csv", (1, 1))
    pulled = pull(db, dossiers(settings, max_rejected_rows=10))
    assert (pulled.result.inserted, pulled.result.rejected) == (3, 1)
    assert "more than max_rejected_rows=10 rows rejected" in reasons(folder)["a_bad.csv.reason.txt"]
    assert (folder / DONE / "b_good.csv").exists()


def test_size_limit(db: Engine, settings: Settings, folder: Path) -> None:
    (folder / "big.csv").write_text(csv_text(20_000), encoding="utf-8")
    pulled = pull(db, dossiers(settings, max_file_mb=0.1))
    assert pulled.result.inserted == 0
    assert "over the limit max_file_mb=0.1" in reasons(folder)["big.csv.reason.txt"]


def test_utf16_unicode_text_is_read_and_without_bom_is_named(
    db: Engine, settings: Settings, folder: Path
) -> None:
    text = csv_text(3, delimiter="\t").replace("Sở Xây dựng", "Sở Tư pháp")
    (folder / "a_unicode.csv").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    (folder / "b_nobom.csv").write_bytes(text.encode("utf-16-le"))
    os.utime(folder / "a_unicode.csv", (1, 1))
    pulled = pull(db, dossiers(settings))
    assert (pulled.result.inserted, pulled.result.rejected) == (3, 1)
    assert {r["department_code"] for r in rows(db, "SELECT department_code FROM dossier")} == {"Sở Tư pháp"}
    assert "UTF-16 text without a byte-order mark" in reasons(folder)["b_nobom.csv.reason.txt"]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("report.xlsx", b"MaHoSo;MaTTHC\nH-1;1.0\n", "not an XLSX workbook"),
        ("report.xlsx", b"PK\x03\x04garbage", "not an XLSX workbook"),
        ("zipped.xlsx", None, "not a readable XLSX workbook"),
        ("book.csv", b"PK\x03\x04\x14\x00", "zip archive named .csv"),
    ],
)
def test_a_malformed_or_non_xlsx_file_makes_the_run_partial(
    db: Engine, tmp_path: Path, name: str, content: bytes | None, expected: str
) -> None:
    settings = settings_with_source(tmp_path, "motcua", "dossiers", {"settle_seconds": 0})
    folder = settings.drop_dir / "motcua"
    folder.mkdir(parents=True)
    if content is None:  # a zip that is not a workbook
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("readme.txt", SECRET)
        content = buffer.getvalue()
    (folder / name).write_bytes(content)
    summary = run_source(db, settings, "motcua")
    assert (summary.status, summary.rows_inserted, summary.rows_rejected) == ("partial", 0, 1)
    assert expected in reasons(folder)[f"{name}.reason.txt"]
    assert SECRET not in everything_said(db, folder)


def test_reasons_never_quote_the_file(db: Engine, settings: Settings, folder: Path) -> None:
    (folder / "a.csv").write_text(f"TOKEN={SECRET};x\n1;2\n", encoding="utf-8")
    (folder / "b.json").write_text(f'{{"data": [{{"MaHoSo": "{SECRET}"', encoding="utf-8")
    (folder / "c.csv").write_text(f'MaHoSo;x\n"{SECRET};2\n', encoding="utf-8")
    (folder / "d.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    (folder / "e.csv").write_bytes(b"MaHoSo;x\nH-1;\x81\x8a\x8d\n")  # bytes Windows-1258 does not have
    pulled = pull(db, dossiers(settings))
    assert (pulled.result.inserted, pulled.result.rejected) == (0, 5)
    assert len(reasons(folder)) == 5
    said = everything_said(db, folder)
    assert SECRET not in said and "S3cr3t" not in said and "TOKEN" not in said


def test_a_nul_row_file_then_a_good_file_through_the_runner(db: Engine, tmp_path: Path) -> None:
    """One NUL in one CSV row used to fail the run and block every later file of the folder for ever."""
    settings = settings_with_source(tmp_path, "motcua", "dossiers", {"settle_seconds": 0})
    folder = settings.drop_dir / "motcua"
    folder.mkdir(parents=True)
    nul = csv_text(2).replace("Sở Xây dựng", "Sở\x00Xây dựng", 1)
    (folder / "a_nul.csv").write_text(nul, encoding="utf-8")
    os.utime(folder / "a_nul.csv", (1, 1))
    (folder / "b_good.csv").write_text(csv_text(1, start=7), encoding="utf-8")
    summary = run_source(db, settings, "motcua")
    assert summary.status == "partial" and summary.rows_rejected >= 1
    codes = {r["code"] for r in rows(db, "SELECT code FROM dossier")}
    assert "H-7" in codes and "H-1" in codes  # the good file, and the good row of the bad file
    assert not [p for p in folder.iterdir() if p.is_file()]


def test_a_database_refusal_thrown_back_fails_that_file_and_the_next_one_loads(folder: Path) -> None:
    """What the runner does when the database refuses a batch: the file fails, the loop goes on."""
    (folder / "a.csv").write_text("x\n1\n", encoding="utf-8")
    (folder / "b.csv").write_text("x\n2\n", encoding="utf-8")
    os.utime(folder / "a.csv", (1, 1))

    def batches(drop):  # type: ignore[no-untyped-def]
        yield drop.handle.read().decode(), []

    reader = read_drop_folder(folder, DropOptions(settle_seconds=0), (".csv",), "dossier", batches)
    first = next(reader)
    assert first.records == "x\n1\n"
    refusal = reader.throw(ValueError(f"A string literal cannot contain NUL (0x00) characters: {SECRET}"))
    assert refusal.records == [] and "the database refused batch 1 of the file (ValueError)" in str(
        refusal.rejects
    )
    assert SECRET not in str(refusal.rejects)
    assert next(reader).records == "x\n2\n"
    assert list(reader) == []
    assert (folder / FAILED / "a.csv").exists() and (folder / DONE / "b.csv").exists()


def test_done_and_failed_files_are_deleted_after_keep_files(
    db: Engine, settings: Settings, folder: Path, tmp_path: Path
) -> None:
    (folder / "a.csv").write_text(csv_text(1), encoding="utf-8")
    (folder / "b.json").write_text("{", encoding="utf-8")
    pull(db, dossiers(settings))
    assert (folder / DONE / "a.csv").exists() and (folder / FAILED / "b.json").exists()
    # the move counts, not the file's own (copied) modification time
    assert time.time() - (folder / DONE / "a.csv").stat().st_mtime < 60
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me", encoding="utf-8")
    (folder / DONE / "link.csv").symlink_to(precious)
    old = time.time() - 31 * 86_400
    for path in [*(folder / DONE).iterdir(), *(folder / FAILED).iterdir()]:
        os.utime(path, (old, old), follow_symlinks=False)
    (folder / "c.csv").write_text(csv_text(1, start=5), encoding="utf-8")
    pull(db, dossiers(settings))  # default keep_files: 30d
    assert sorted(p.name for p in (folder / DONE).iterdir()) == ["c.csv"]
    assert list((folder / FAILED).iterdir()) == []
    assert precious.read_text("utf-8") == "keep me"
    assert remove_expired(folder, parse_keep("0s")) == 1  # keep_files: 0s deletes everything moved


def parse_keep(text: str):  # type: ignore[no-untyped-def]
    from ioc.config import parse_duration

    return parse_duration(text)


def test_keep_files_and_limits_are_validated() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        DropOptions(keep_files="forever")
    with pytest.raises(ValidationError):
        DropOptions(max_rows=0)


def test_a_file_gone_between_listing_and_reading_is_skipped(folder: Path) -> None:
    from connectors.drop import _read_one

    def batches(drop):  # type: ignore[no-untyped-def]
        raise AssertionError("never read")

    assert list(_read_one(folder / "gone.csv", DropOptions(), "dossier", batches)) == []
    assert not (folder / FAILED).exists()
