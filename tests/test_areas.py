"""Areas: the package's list for a province, CSV import with merged units, the `ioc areas` commands."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from ioc.areas import (
    PROVINCE_GEO,
    AreaFileError,
    import_org_unit_csv,
    load_org_units,
    province_org_units,
    read_org_unit_csv,
)
from ioc.cli import app
from ioc.config import ConfigError, Settings
from ioc.database import temporary_database

HEADER = "code,name,kind,level,parent_code,valid_from,valid_to,successor_code,lat,lon,name_en\n"


def _write(path: Path, body: str) -> Path:
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_dak_lak_is_the_province_and_its_102_communes_and_wards() -> None:
    rows = province_org_units("66")
    province = [r for r in rows if r["level"] == 1]
    communes = [r for r in rows if r["level"] == 2]
    assert [(p["code"], p["name"], p["kind"]) for p in province] == [("66", "Đắk Lắk", "tỉnh")]
    assert len(communes) == 102
    assert {r["parent_code"] for r in communes} == {"66"}
    assert {r["kind"] for r in communes} <= {"xã", "phường", "đặc khu"}
    assert all(r["valid_from"] == date(2025, 7, 1) and r["valid_to"] is None for r in rows)
    assert len({r["code"] for r in rows}) == 103
    names = {r["code"]: r["name"] for r in rows}
    assert names["24133"] == "Phường Buôn Ma Thuột"  # the package spells it with two spaces
    assert not any("  " in r["name"] for r in rows)
    assert next(r for r in rows if r["code"] == "24133")["name_en"] == "Buon Ma Thuot Ward"
    box = PROVINCE_GEO[66]
    for r in communes:
        assert box.lat_min <= r["lat"] <= box.lat_max and box.lon_min <= r["lon"] <= box.lon_max
    assert province_org_units("66") == rows  # placements are deterministic


def test_other_provinces_work_and_unknown_codes_name_the_setting() -> None:
    hanoi = province_org_units("1")
    assert hanoi[0]["code"] == "01" and hanoi[0]["kind"] == "thành phố"
    cao_bang = province_org_units("04")
    assert cao_bang[0]["name"] == "Cao Bằng" and cao_bang[1]["lat"] is None  # no box known
    with pytest.raises(ConfigError, match=r"province\.code.*'67'.*66 \(Đắk Lắk\)"):
        province_org_units("67")
    with pytest.raises(ConfigError, match=r"province\.code"):
        province_org_units("dak lak")


def test_csv_import_keeps_a_merged_unit_with_its_successor(db: Engine, tmp_path: Path) -> None:
    path = _write(
        tmp_path / "areas.csv",
        # the old ward comes first: the loader must put its successor and parent before it
        "24124,Phường  Tân Lợi,phường,2,66,2020-01-01,2025-06-30,24133,,,\n"
        "66,Đắk Lắk,tỉnh,1,,2025-07-01,,,12.67,108.04,Dak Lak Province\n"
        "24133,Phường Buôn Ma Thuột,phường,2,66,2025-07-01,,,12.68,108.05,\n",
    )
    rows = read_org_unit_csv(path)
    assert rows[0]["name"] == "Phường Tân Lợi" and rows[0]["successor_code"] == "24133"
    with db.begin() as connection:
        result = import_org_unit_csv(connection, path)
    assert (result.inserted, result.rejected) == (3, 0)
    with db.connect() as connection:
        stored = connection.execute(
            text("SELECT code, parent_code, valid_to, successor_code, lat FROM org_unit ORDER BY code")
        ).all()
    assert stored == [
        ("24124", "66", date(2025, 6, 30), "24133", None),
        ("24133", "66", None, None, 12.68),
        ("66", None, None, None, 12.67),
    ]
    with db.begin() as connection:
        again = import_org_unit_csv(connection, path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)


def test_successor_may_already_be_in_the_database(db: Engine, tmp_path: Path) -> None:
    with db.begin() as connection:
        load_org_units(connection, province_org_units("66"))
    path = _write(tmp_path / "old.csv", "24124,Phường Tân Lợi,phường,2,66,,2025-06-30,24133,,,\n")
    with db.begin() as connection:
        result = import_org_unit_csv(connection, path)
        count = connection.execute(text("SELECT count(*) FROM org_unit")).scalar()
    assert result.inserted == 1 and count == 104


def test_missing_successor_is_a_clear_error(db: Engine, tmp_path: Path) -> None:
    path = _write(
        tmp_path / "areas.csv",
        "66,Đắk Lắk,tỉnh,1,,,,,,,\n24124,Phường Tân Lợi,phường,2,66,,2025-06-30,99999,,,\n",
    )
    with db.begin() as connection, pytest.raises(AreaFileError) as caught:
        import_org_unit_csv(connection, path)
    message = str(caught.value)
    assert str(path) in message and "line 3" in message and "successor_code" in message and "99999" in message


@pytest.mark.parametrize(
    ("line", "column", "expected"),
    [
        ("24133,Phường Buôn Ma Thuột,phường,x,66,2025-07-01,,,,,", "level", "whole number"),
        ("24133,Phường Buôn Ma Thuột,phường,2,66,1/7/2025,,,,,", "valid_from", "YYYY-MM-DD"),
        ("24133,Phường Buôn Ma Thuột,phường,2,66,2025-07-01,,,95,108,", "lat", "outside"),
        ("24133,,phường,2,66,2025-07-01,,,,,", "name", "required"),
        ("24133,Phường Buôn Ma Thuột,phường,2,66,2025-07-01,,24134,,,", "valid_to", "needs the date"),
    ],
)
def test_a_bad_line_names_file_line_and_column(tmp_path: Path, line: str, column: str, expected: str) -> None:
    path = _write(tmp_path / "bad.csv", "66,Đắk Lắk,tỉnh,1,,,,,,,\n" + line + "\n")
    with pytest.raises(AreaFileError) as caught:
        read_org_unit_csv(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: line 3, column {column}:") and expected in message


def test_bad_header_and_duplicate_code(tmp_path: Path) -> None:
    bad_header = tmp_path / "header.csv"
    bad_header.write_text("code,name,level\n66,Đắk Lắk,1\n", encoding="utf-8")
    with pytest.raises(AreaFileError, match=r"line 1: header lacks column\(s\) kind, parent_code"):
        read_org_unit_csv(bad_header)
    duplicate = _write(tmp_path / "dup.csv", "66,Đắk Lắk,tỉnh,1,,,,,,,\n66,Đắk Lắk,tỉnh,1,,,,,,,\n")
    with pytest.raises(AreaFileError, match=r"line 3, column code: '66' already given on line 2"):
        read_org_unit_csv(duplicate)


def test_cli_import_and_list(db: Engine, settings: Settings, database_env: str, tmp_path: Path) -> None:
    runner = CliRunner()
    config = str(settings.source_file)
    imported = runner.invoke(app, ["--config", config, "areas", "import"])
    assert imported.exit_code == 0, imported.output
    assert "inserted 103, updated 0, unchanged 0, rejected 0" in imported.output
    path = _write(tmp_path / "old.csv", "24124,Phường Tân Lợi,phường,2,66,,2025-06-30,24133,,,\n")
    again = runner.invoke(app, ["--config", config, "areas", "import", str(path)])
    assert again.exit_code == 0, again.output
    assert "inserted 1," in again.output
    listed = runner.invoke(app, ["--config", config, "areas", "list", "--level", "1"])
    assert listed.exit_code == 0 and "Đắk Lắk" in listed.output and "1 unit(s)" in listed.output
    communes = runner.invoke(app, ["--config", config, "areas", "list", "--level", "2"])
    assert "103 unit(s)" in communes.output and "→ 24133" in communes.output


def test_cli_says_when_the_schema_is_missing(
    admin_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with temporary_database(admin_url, prefix="ioc_empty") as url:
        monkeypatch.setenv("DATABASE_URL", url)
        result = CliRunner().invoke(app, ["--config", str(settings.source_file), "areas", "list"])
        assert result.exit_code == 1
        assert "ioc db upgrade" in result.output
