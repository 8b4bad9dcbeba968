"""A pure JSON-stat 2.0 dataset reader (protocols §2): every form the spec allows, nothing else.

* `category.index` as an array or an object; omitted for a single-category dimension whose
  `label` then names the one code.
* `value` as an array (numbers, null, strings) or a sparse object `{"idx": v}` (unlisted cells are
  missing and not returned).
* `status` as a string (all cells), an array (per cell, nulls allowed) or an object `{"idx": sym}`.
* Values follow `connectors.values`: numbers and numeric strings are numbers; a short symbol
  (`"n/a"`, `".."`) becomes a missing value with the symbol kept as the cell's status (unless the
  cell has a status already). A cell whose value or status cannot be stored (±Infinity, `"1,5"`, an
  object, a status that is not a short text…) is listed with a reason in `Dataset.problems`; the
  caller rejects it. Problems of the dataset's shape raise :class:`JsonStatError`.
* JSON-stat 1.x (PxWeb `json-stat`): a bundle holding exactly one dataset is unwrapped; anything
  else (several datasets, a `collection`) is rejected with a clear message.

The symbols themselves (`..`, `-`) mean nothing to JSON-stat; interpreting them is the caller's job.
Cells are addressed row-major (the last dimension varies fastest). Values are held in numpy arrays
so a 200k-cell table is read in milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from connectors import values as v

#: Largest number of cells a dataset may declare (PxWeb servers cap queries at ~100,000-150,000).
MAX_CELLS = 50_000_000


class JsonStatError(ValueError):
    """The payload is not a JSON-stat 2.0 dataset this reader can trust."""


@dataclass(frozen=True)
class Dimension:
    id: str
    label: str
    codes: tuple[str, ...]
    """Category codes in index order."""
    labels: tuple[str, ...]
    """Category labels in index order (the code when the dataset gives no label)."""
    units: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    extension: Mapping[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.codes)


@dataclass(frozen=True)
class Dataset:
    dimensions: tuple[Dimension, ...]
    values: np.ndarray
    """float64 per listed cell; NaN when missing."""
    status: np.ndarray
    """object per listed cell: the status symbol or None."""
    cells: np.ndarray
    """int64 flat index of each listed cell (all cells for the array form of `value`)."""
    problems: np.ndarray | None = None
    """object per listed cell: why the cell cannot be stored, or None."""
    label: str | None = None
    source: str | None = None
    updated: str | None = None
    role: Mapping[str, list[str]] = field(default_factory=dict)
    note: tuple[str, ...] = ()
    extension: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.dimensions)

    @property
    def size(self) -> tuple[int, ...]:
        return tuple(d.size for d in self.dimensions)

    def dimension(self, dim_id: str) -> Dimension:
        for d in self.dimensions:
            if d.id == dim_id:
                return d
        raise KeyError(dim_id)

    def positions(self, dim_id: str) -> np.ndarray:
        """Category position of `dim_id` for every listed cell (vectorised row-major decoding)."""
        axis = self.ids.index(dim_id)
        stride = int(np.prod(self.size[axis + 1 :], dtype=np.int64))
        return (self.cells // stride) % self.size[axis]

    def frame(self, *, labels: bool = True) -> pd.DataFrame:
        """One row per listed cell: a code column per dimension (named by its id), a `<id> label`
        column per dimension when `labels`, then `value` and `status`."""
        data: dict[str, Any] = {}
        for d in self.dimensions:
            pos = self.positions(d.id)
            data[d.id] = np.asarray(d.codes, dtype=object)[pos]
            if labels:
                data[f"{d.id} label"] = np.asarray(d.labels, dtype=object)[pos]
        data["value"] = self.values
        data["status"] = self.status
        if len(data) != len(self.dimensions) * (2 if labels else 1) + 2:
            raise JsonStatError("dimension ids collide with the value/status/label columns")
        return pd.DataFrame(data)


# --------------------------------------------------------------------------- reading


def unwrap(payload: Any) -> Mapping[str, Any]:
    """The JSON-stat 2.0 dataset object in `payload`, converting a one-dataset 1.x bundle."""
    if not isinstance(payload, Mapping):
        raise JsonStatError(f"expected a JSON object, got {type(payload).__name__}")
    if "version" in payload or "class" in payload:
        version = str(payload.get("version", ""))
        klass = payload.get("class")
        if not version.startswith("2."):
            raise JsonStatError(f"unsupported JSON-stat version {version or '(none)'!r}; expected 2.0")
        if klass != "dataset":
            raise JsonStatError(f"JSON-stat class {klass!r} is not a dataset (only datasets are read)")
        return payload
    datasets = [v for v in payload.values() if isinstance(v, Mapping) and "dimension" in v]
    if "dimension" in payload and "value" in payload:
        datasets = [payload]
    if len(datasets) != 1:
        raise JsonStatError(
            "not a JSON-stat 2.0 dataset (no version/class) and not a JSON-stat 1.x bundle "
            f"with exactly one dataset (found {len(datasets)})"
        )
    old = datasets[0]
    dims = old["dimension"]
    if not isinstance(dims, Mapping) or "id" not in dims or "size" not in dims:
        raise JsonStatError("JSON-stat 1.x dataset without dimension.id/dimension.size")
    converted = {k: v for k, v in old.items() if k != "dimension"}
    converted.update(
        version="2.0",
        id=dims["id"],
        size=dims["size"],
        dimension={k: v for k, v in dims.items() if k not in ("id", "size", "role")},
    )
    if "role" in dims:
        converted["role"] = dims["role"]
    return converted


def _dimension(dim_id: str, raw: Any, size: int) -> Dimension:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("category"), Mapping):
        raise JsonStatError(f"dimension {dim_id!r} has no category object")
    category = raw["category"]
    index = category.get("index")
    label_map = category.get("label") or {}
    if not isinstance(label_map, Mapping):
        raise JsonStatError(f"dimension {dim_id!r}: category.label must be an object")
    if index is None:
        if len(label_map) != 1:
            raise JsonStatError(
                f"dimension {dim_id!r}: category.index is missing, which is only allowed for a "
                f"single category (label has {len(label_map)})"
            )
        codes = [_category_code(dim_id, next(iter(label_map)))]
    elif isinstance(index, list):
        codes = [_category_code(dim_id, c) for c in index]
    elif isinstance(index, Mapping):
        codes = [""] * len(index)
        for code, pos in index.items():
            if not isinstance(pos, int) or isinstance(pos, bool) or not 0 <= pos < len(index) or codes[pos]:
                raise JsonStatError(f"dimension {dim_id!r}: category.index is not a permutation of 0…n-1")
            codes[pos] = _category_code(dim_id, code)
    else:
        raise JsonStatError(f"dimension {dim_id!r}: category.index must be an array or an object")
    if len(set(codes)) != len(codes):
        raise JsonStatError(f"dimension {dim_id!r}: duplicate category codes")
    if len(codes) != size:
        raise JsonStatError(f"dimension {dim_id!r}: size says {size} categories, the index has {len(codes)}")
    labels = tuple(str(label_map.get(c, c)) for c in codes)
    units = category.get("unit") or {}
    extension = raw.get("extension") or {}
    return Dimension(
        id=dim_id,
        label=str(raw.get("label", dim_id)),
        codes=tuple(codes),
        labels=labels,
        units=units if isinstance(units, Mapping) else {},
        extension=extension if isinstance(extension, Mapping) else {},
    )


def _category_code(dim_id: str, raw: Any) -> str:
    found = v.code(raw)
    if found is None:
        raise JsonStatError(f"dimension {dim_id!r}: a category code that is not a short text")
    return found


def _ids(raw: Any) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(i, str) and v.code(i) == i for i in raw):
        raise JsonStatError("`id` must be an array of dimension ids (short texts)")
    if len(set(raw)) != len(raw):
        raise JsonStatError("`id` lists a dimension twice")
    return raw


def _flat_keys(keys: Any, total: int, what: str) -> np.ndarray:
    try:
        cells = np.array([int(k) for k in keys], dtype=np.int64)
    except (TypeError, ValueError):
        raise JsonStatError(f"{what} object has keys that are not cell indices") from None
    if len(cells) and (cells.min() < 0 or cells.max() >= total):
        raise JsonStatError(f"{what} object has a cell index outside 0…{total - 1}")
    return cells


def read(payload: Any) -> Dataset:
    """Read a JSON-stat dataset (2.0, or a 1.x bundle with one dataset) into a :class:`Dataset`."""
    ds = unwrap(payload)
    if "error" in ds and not ds.get("value"):
        raise JsonStatError(f"the dataset reports errors: {ds['error']}")
    ids, sizes = _ids(ds.get("id")), ds.get("size")
    if not isinstance(sizes, list) or len(ids) != len(sizes):
        raise JsonStatError("`id` and `size` must be arrays of the same length")
    if not all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s <= MAX_CELLS for s in sizes):
        raise JsonStatError("`size` must hold non-negative integers")
    if math.prod(sizes) > MAX_CELLS:
        raise JsonStatError(f"`size` {sizes} declares more than {MAX_CELLS:,} cells")
    raw_dims = ds.get("dimension")
    if not isinstance(raw_dims, Mapping):
        raise JsonStatError("`dimension` must be an object")
    missing = [i for i in ids if i not in raw_dims]
    if missing:
        raise JsonStatError(f"dimensions listed in `id` but not described: {missing}")
    dims = tuple(_dimension(str(i), raw_dims[i], s) for i, s in zip(ids, sizes, strict=True))
    total = int(np.prod(sizes, dtype=np.int64)) if sizes else 1

    raw_value = ds.get("value")
    if isinstance(raw_value, list):
        if len(raw_value) != total:
            raise JsonStatError(f"`value` has {len(raw_value)} cells; size {sizes} gives {total}")
        cells = np.arange(total, dtype=np.int64)
        values, texts, problems = v.read_values(raw_value)
    elif isinstance(raw_value, Mapping):
        cells = _flat_keys(raw_value.keys(), total, "value")
        values, texts, problems = v.read_values(list(raw_value.values()))
    else:
        raise JsonStatError("`value` must be an array or an object")

    status = _status(ds.get("status"), cells, total)
    if isinstance(raw_value, Mapping) and isinstance(ds.get("status"), Mapping):
        # A status on a cell that `value` does not list still says something about that cell.
        extra = np.setdiff1d(_flat_keys(ds["status"].keys(), total, "status"), cells)
        if len(extra):
            cells = np.concatenate([cells, extra])
            values = np.concatenate([values, np.full(len(extra), np.nan)])
            texts = np.concatenate([texts, np.full(len(extra), None, dtype=object)])
            problems = np.concatenate([problems, np.full(len(extra), None, dtype=object)])
            by_key = {str(k): sym for k, sym in ds["status"].items()}
            status = np.concatenate([status, np.array([by_key[str(c)] for c in extra], dtype=object)])
        order = np.argsort(cells, kind="stable")
        cells, values, texts, status = cells[order], values[order], texts[order], status[order]
        problems = problems[order]
    bad_status = np.fromiter((not v.is_symbol(x) for x in status), dtype=bool, count=len(status))
    if bad_status.any():
        problems = np.where(bad_status & (problems == None), "status: not a short status symbol", problems)  # noqa: E711
        status = np.where(bad_status, None, status)
    status = np.array([v.symbol(x) for x in status], dtype=object) if len(status) else status
    has_text = texts != None  # noqa: E711 (element-wise)
    status = np.where(has_text & (status == None), texts, status)  # noqa: E711

    role = ds.get("role") if isinstance(ds.get("role"), Mapping) else {}
    note = ds.get("note") or ()
    extension = ds.get("extension")
    return Dataset(
        dimensions=dims,
        values=values,
        status=status,
        cells=cells,
        problems=problems,
        label=ds.get("label") if isinstance(ds.get("label"), str) else None,
        source=ds.get("source") if isinstance(ds.get("source"), str) else None,
        updated=v.symbol(ds.get("updated"), v.MAX_SYMBOL),
        role={k: [str(i) for i in r if isinstance(i, str)] for k, r in role.items() if isinstance(r, list)},
        note=tuple(str(n) for n in note) if isinstance(note, list) else (str(note),),
        extension=extension if isinstance(extension, Mapping) else {},
    )


def _objects(items: Sequence[Any]) -> np.ndarray:
    """A 1-d object array of `items` as they are (numpy would turn equal-length lists into rows)."""
    out = np.full(len(items), None, dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


def _status(raw: Any, cells: np.ndarray, total: int) -> np.ndarray:
    """The raw status of each listed cell (validated by the caller)."""
    out = np.full(len(cells), None, dtype=object)
    if raw is None:
        return out
    if isinstance(raw, str):
        out[:] = raw
        return out
    if isinstance(raw, list):
        if len(raw) == 1 and total != 1:  # a one-element array applies to every cell
            for i in range(len(out)):
                out[i] = raw[0]
            return out
        if len(raw) != total:
            raise JsonStatError(f"`status` array has {len(raw)} entries; the dataset has {total} cells")
        return _objects(raw)[cells]
    if isinstance(raw, Mapping):
        flat = _flat_keys(raw.keys(), total, "status")
        symbols = _objects(list(raw.values()))
        where = np.searchsorted(cells, flat) if len(cells) and _is_sorted(cells) else None
        if where is not None:
            where = np.minimum(where, len(cells) - 1)
            hit = cells[where] == flat
            out[where[hit]] = symbols[hit]
        else:
            lookup = dict(zip(flat.tolist(), symbols.tolist(), strict=True))
            out[:] = _objects([lookup.get(c) for c in cells.tolist()])
        return out
    raise JsonStatError("`status` must be a string, an array or an object")


def _is_sorted(cells: np.ndarray) -> bool:
    return bool(len(cells) < 2 or (np.diff(cells) >= 0).all())


def unit_label(unit: Any) -> str | None:
    """The text of a `category.unit` entry: its `label`, else PxWeb's `base`, else its `symbol`."""
    if not isinstance(unit, Mapping):
        return None
    for key in ("label", "base", "symbol"):
        text = v.symbol(unit.get(key), v.MAX_TEXT) if isinstance(unit.get(key), str) else None
        if text:
            return text
    return None


def cell_units(data: Dataset, prefer: Sequence[str | None] = ()) -> np.ndarray | None:
    """The unit of every listed cell, from whichever dimension carries `category.unit` (PxWeb: the
    contents variable, `ContentsCode`). Dimensions are tried in this order: those named in `prefer`,
    then `role.metric`, then the rest in `id` order; the first with a unit for the cell's category
    wins. None when no dimension has units."""
    metric = data.role.get("metric") if isinstance(data.role.get("metric"), list) else []
    order = [d for d in (*prefer, *metric, *data.ids) if d in data.ids]
    out: np.ndarray | None = None
    for dim_id in dict.fromkeys(order):
        dim = data.dimension(dim_id)
        labels = np.array([unit_label(dim.units.get(c)) for c in dim.codes], dtype=object)
        if not any(label is not None for label in labels):
            continue
        cells = labels[data.positions(dim_id)]
        out = cells if out is None else np.where(out == None, cells, out)  # noqa: E711 (element-wise)
    return out


def read_dimensions(payload: Any) -> tuple[Dimension, ...]:
    """Only the dimensions of a dataset — for metadata responses whose `value` is `[]` (PxWeb v2)."""
    ds = unwrap(payload)
    ids, sizes, raw_dims = _ids(ds.get("id")), ds.get("size"), ds.get("dimension")
    if not isinstance(sizes, list) or not isinstance(raw_dims, Mapping):
        raise JsonStatError("`id`, `size` and `dimension` are required")
    if len(ids) != len(sizes) or any(i not in raw_dims for i in ids):
        raise JsonStatError("`id`, `size` and `dimension` do not agree")
    return tuple(_dimension(str(i), raw_dims[i], s) for i, s in zip(ids, sizes, strict=True))
