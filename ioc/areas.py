"""Areas (org units) as data: from the `vietnam-provinces` package or from a CSV file, never from code.

Since 1 July 2025 Vietnam has two tiers of local government (province → commune/ward/special zone).
:func:`province_org_units` builds the rows of one province from the package (codes are the GSO codes,
zero-padded: province "66", ward "24133"). :func:`read_org_unit_csv` reads a CSV that may also carry
history: a unit merged away keeps its old code with `valid_to` and `successor_code`, so facts stored
under the old code can be mapped to the new one.

Coordinates: the package has none. For the demo, each unit gets an *approximate* point: the province a
bounding box (known boxes in :data:`PROVINCE_GEO`, else a ±0.4° box around a known centre, else no
coordinates) and each commune a deterministic point inside that box derived from a hash of its code.
These are demo placements for drawing maps, not survey data.
"""

from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from ioc.config import ConfigError
from ioc.load import LoadResult, load_batch

#: Date the two-tier local government (and the package's list of communes) took effect.
REORGANISATION_DATE = date(2025, 7, 1)

CSV_COLUMNS = ("code", "name", "kind", "level", "parent_code", "valid_from", "valid_to", "successor_code")
CSV_OPTIONAL_COLUMNS = ("lat", "lon", "name_en")

_KIND_EN = {
    "tỉnh": "Province",
    "thành phố": "City",
    "xã": "Commune",
    "phường": "Ward",
    "đặc khu": "Special Zone",
}
_NAME_PREFIXES = ("Thành phố ", "Tỉnh ", "Xã ", "Phường ", "Đặc khu ")


class AreaFileError(ConfigError):
    """A problem in an org-unit file; the message names the file, line and column."""


@dataclass(frozen=True)
class ProvinceGeo:
    """Approximate geography of a province for demo maps: centre and bounding box (degrees)."""

    lat: float
    lon: float
    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float

    @classmethod
    def around(cls, lat: float, lon: float, half: float = 0.4) -> ProvinceGeo:
        return cls(lat, lon, lat - half, lat + half, lon - half, lon + half)


#: Known provinces (codes after the 2025 reorganisation). Đắk Lắk includes former Phú Yên.
#: Others: a default ±0.4° box around the provincial capital. Approximate, for demo maps only.
PROVINCE_GEO: dict[int, ProvinceGeo] = {
    66: ProvinceGeo(12.67, 108.04, 12.1, 13.6, 107.4, 109.5),
    1: ProvinceGeo.around(21.03, 105.85),
    31: ProvinceGeo.around(20.86, 106.68),
    46: ProvinceGeo.around(16.46, 107.59),
    48: ProvinceGeo.around(16.05, 108.20),
    52: ProvinceGeo.around(13.98, 108.50),
    56: ProvinceGeo.around(12.24, 109.19),
    68: ProvinceGeo.around(11.94, 108.44),
    79: ProvinceGeo.around(10.78, 106.70),
    92: ProvinceGeo.around(10.03, 105.78),
}


# --------------------------------------------------------------------------- names


def normalise_name(name: str) -> str:
    """Collapse runs of whitespace ("Phường  Buôn Ma Thuột" → "Phường Buôn Ma Thuột")."""
    return re.sub(r"\s+", " ", name).strip()


def ascii_fold(name: str) -> str:
    """Vietnamese without diacritics ("Đắk Lắk" → "Dak Lak")."""
    name = name.replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", name)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def english_name(name: str, kind: str) -> str:
    """ "Phường Tân An", "phường" → "Tan An Ward"."""
    bare = name
    for prefix in _NAME_PREFIXES:
        if bare.startswith(prefix):
            bare = bare[len(prefix) :]
            break
    suffix = _KIND_EN.get(kind)
    return f"{ascii_fold(bare)} {suffix}" if suffix else ascii_fold(bare)


# --------------------------------------------------------------------------- package


def _province_code(province_code: str | int) -> int:
    from vietnam_provinces import Province, ProvinceCode

    try:
        return int(ProvinceCode(int(str(province_code).strip())))
    except ValueError:
        examples = ", ".join(
            f"{int(p.code):02d} ({normalise_name(p.name)})" for p in list(Province.iter_all())[:6]
        )
        raise ConfigError(
            f"province.code: unknown province code {province_code!r}; valid codes include {examples}, "
            "66 (Đắk Lắk) … (codes of the 2025 reorganisation, package vietnam-provinces)"
        ) from None


def province_geo(province_code: str | int) -> ProvinceGeo | None:
    """The demo geography of a province, or None when no approximate box is known."""
    try:
        return PROVINCE_GEO.get(int(str(province_code)))
    except ValueError:
        return None


def demo_point(code: str, geo: ProvinceGeo, margin: float = 0.08) -> tuple[float, float]:
    """A deterministic point inside the province box, from a hash of the unit's code (demo only)."""
    digest = hashlib.blake2b(code.encode(), digest_size=8).digest()
    u = int.from_bytes(digest[:4], "big") / 2**32
    v = int.from_bytes(digest[4:], "big") / 2**32
    lat_span, lon_span = geo.lat_max - geo.lat_min, geo.lon_max - geo.lon_min
    lat = geo.lat_min + lat_span * (margin + (1 - 2 * margin) * u)
    lon = geo.lon_min + lon_span * (margin + (1 - 2 * margin) * v)
    return round(lat, 5), round(lon, 5)


def place_units(rows: list[dict[str, Any]], province_code: str) -> list[dict[str, Any]]:
    """Fill missing lat/lon with demo placements (province: its centre; others: a hashed point)."""
    geo = province_geo(province_code)
    out = []
    for row in rows:
        row = dict(row)
        if geo is not None and (row.get("lat") is None or row.get("lon") is None):
            if row["code"] == province_code:
                row["lat"], row["lon"] = geo.lat, geo.lon
            else:
                row["lat"], row["lon"] = demo_point(row["code"], geo)
        out.append(row)
    return out


def province_org_units(province_code: str) -> list[dict[str, Any]]:
    """The province and its communes/wards (after 1 July 2025) as org_unit rows, province first.

    Coordinates are demo placements (see the module docstring), None for provinces without a box.
    """
    from vietnam_provinces import Province, ProvinceCode, Ward

    number = _province_code(province_code)
    province = Province.from_code(ProvinceCode(number))
    code = f"{number:02d}"
    kind = "tỉnh" if province.division_type.value == "tỉnh" else "thành phố"
    name = normalise_name(province.name)
    rows: list[dict[str, Any]] = [
        {
            "code": code,
            "name": name,
            "name_en": english_name(name, kind),
            "kind": kind,
            "level": 1,
            "parent_code": None,
            "valid_from": REORGANISATION_DATE,
            "valid_to": None,
            "successor_code": None,
            "lat": None,
            "lon": None,
        }
    ]
    wards = sorted(Ward.iter_by_province(ProvinceCode(number)), key=lambda w: int(w.code))
    for ward in wards:
        ward_name = normalise_name(ward.name)
        ward_kind = ward.division_type.value
        rows.append(
            {
                "code": f"{int(ward.code):05d}",
                "name": ward_name,
                "name_en": english_name(ward_name, ward_kind),
                "kind": ward_kind,
                "level": 2,
                "parent_code": code,
                "valid_from": REORGANISATION_DATE,
                "valid_to": None,
                "successor_code": None,
                "lat": None,
                "lon": None,
            }
        )
    return place_units(rows, code)


# --------------------------------------------------------------------------- CSV


@dataclass(frozen=True)
class _Line:
    number: int
    row: dict[str, Any]


def _fail(path: Path, line: int, column: str, message: str) -> AreaFileError:
    return AreaFileError(f"{path}: line {line}, column {column}: {message}")


def _parse_value(path: Path, line: int, column: str, raw: str) -> Any:
    value = raw.strip()
    if value == "":
        return None
    if column == "level":
        if not value.isdigit() or not 1 <= int(value) <= 4:
            raise _fail(path, line, column, f"expected a whole number 1–4 (got {raw!r})")
        return int(value)
    if column in ("valid_from", "valid_to"):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise _fail(path, line, column, f"expected a date YYYY-MM-DD (got {raw!r})") from None
    if column in ("lat", "lon"):
        limit = 90 if column == "lat" else 180
        try:
            number = float(value)
        except ValueError:
            raise _fail(path, line, column, f"expected a number (got {raw!r})") from None
        if not -limit <= number <= limit:
            raise _fail(path, line, column, f"outside -{limit}–{limit} (got {raw!r})")
        return number
    if column == "name":
        return normalise_name(value)
    return value


def _read_lines(path: Path) -> list[_Line]:
    path = Path(path)
    try:
        data = path.read_bytes()
        data.decode("utf-8-sig")
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise AreaFileError(f"{path}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise AreaFileError(f"{path}: line {line}: not UTF-8 text; save the file as CSV UTF-8") from None
    with handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in CSV_COLUMNS if c not in header]
        if missing:
            raise AreaFileError(
                f"{path}: line 1: header lacks column(s) {', '.join(missing)} "
                f"(expected {','.join(CSV_COLUMNS)}[,{','.join(CSV_OPTIONAL_COLUMNS)}])"
            )
        unknown = [c for c in header if c not in CSV_COLUMNS + CSV_OPTIONAL_COLUMNS]
        if unknown:
            raise AreaFileError(f"{path}: line 1: unknown column(s) {', '.join(unknown)}")
        lines: list[_Line] = []
        seen: dict[str, int] = {}
        for cells in reader:
            number = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise AreaFileError(
                    f"{path}: line {number}: expected {len(header)} columns, found {len(cells)}"
                )
            row = {col: _parse_value(path, number, col, raw) for col, raw in zip(header, cells, strict=True)}
            for required in ("code", "name", "kind", "level"):
                if row[required] is None:
                    raise _fail(path, number, required, "required value is missing")
            if row["code"] in seen:
                raise _fail(
                    path, number, "code", f"{row['code']!r} already given on line {seen[row['code']]}"
                )
            seen[row["code"]] = number
            if row["valid_from"] and row["valid_to"] and row["valid_to"] < row["valid_from"]:
                raise _fail(path, number, "valid_to", "is before valid_from")
            if row["successor_code"] is not None and row["valid_to"] is None:
                raise _fail(path, number, "valid_to", "a unit with a successor_code needs the date it ended")
            if row["successor_code"] == row["code"] or row["parent_code"] == row["code"]:
                raise _fail(path, number, "successor_code", "a unit cannot refer to itself")
            lines.append(_Line(number, row))
    return lines


def read_org_unit_csv(path: Path | str) -> list[dict[str, Any]]:
    """Rows of an org-unit CSV, validated; errors name the file, line and column.

    Header: `code,name,kind,level,parent_code,valid_from,valid_to,successor_code[,lat,lon,name_en]`.
    A merged unit keeps its old code with `valid_to` (last day) and `successor_code` (the new unit).
    """
    return [line.row for line in _read_lines(Path(path))]


def order_parents_first(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows sorted so that every parent and successor comes before the units that refer to it."""
    by_code = {row["code"]: dict(row) for row in rows}
    ordered: list[dict[str, Any]] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(code: str, chain: tuple[str, ...]) -> None:
        if state.get(code) == 2:
            return
        if state.get(code) == 1:
            raise AreaFileError(f"org units refer to each other in a cycle: {' → '.join((*chain, code))}")
        state[code] = 1
        row = by_code[code]
        for ref in (row.get("parent_code"), row.get("successor_code")):
            if ref is not None and ref in by_code:
                visit(ref, (*chain, code))
        state[code] = 2
        ordered.append(row)

    for code in by_code:
        visit(code, ())
    return ordered


def org_unit_table_exists(connection: Connection) -> bool:
    return bool(connection.execute(text("SELECT to_regclass('org_unit') IS NOT NULL")).scalar())


def load_org_units(
    connection: Connection,
    rows: list[dict[str, Any]],
    *,
    source: str = "areas",
    origin: str = "areas",
    lines: Mapping[str, int] | None = None,
) -> LoadResult:
    """Check references, order parents first and load through :func:`ioc.load.load_batch`.

    A parent or successor must be in `rows` or already in the database, else AreaFileError.
    """
    codes = {row["code"] for row in rows}
    refs = {
        ref for row in rows for ref in (row.get("parent_code"), row.get("successor_code")) if ref is not None
    }
    outside = sorted(refs - codes)
    known: set[str] = set()
    if outside:
        query = text("SELECT code FROM org_unit WHERE code = ANY(:codes)")
        known = set(map(str, connection.execute(query, {"codes": outside}).scalars()))
    for row in rows:
        for column in ("parent_code", "successor_code"):
            ref = row.get(column)
            if ref is not None and ref not in codes and ref not in known:
                where = f"line {lines[row['code']]}, " if lines and row["code"] in lines else ""
                raise AreaFileError(
                    f"{origin}: {where}column {column}: unit {ref!r} (referred to by {row['code']!r}) "
                    "is neither in the file nor in the database"
                )
    return load_batch(connection, "org_unit", order_parents_first(rows), source=source)


def import_org_unit_csv(connection: Connection, path: Path | str, *, source: str = "areas") -> LoadResult:
    """Read, check and load an org-unit CSV inside the caller's transaction."""
    lines = _read_lines(Path(path))
    return load_org_units(
        connection,
        [line.row for line in lines],
        source=source,
        origin=str(path),
        lines={line.row["code"]: line.number for line in lines},
    )
