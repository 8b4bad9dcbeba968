"""The JSON-stat 2.0 reader against the PxWeb fixture and every form the spec allows."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from connectors import jsonstat

FIXTURES = Path(__file__).parent / "fixtures" / "stat"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_pxweb_fixture_cells() -> None:
    data = jsonstat.read(load("pxweb_query_response.jsonstat2.json"))
    assert data.ids == ("Địa phương", "Năm", "Chỉ tiêu")
    assert data.size == (2, 2, 3)
    assert data.updated == "2025-07-23T10:00:00Z"
    frame = data.frame()
    assert len(frame) == 12
    # cell (0, 1, 0) = 0·6 + 1·3 + 0 = 3: CẢ NƯỚC, Sơ bộ 2024, Diện tích → null with ".."
    row = frame.iloc[3]
    assert (row["Địa phương label"], row["Năm label"], row["Chỉ tiêu"]) == ("CẢ NƯỚC", "Sơ bộ 2024", "0")
    assert math.isnan(row["value"]) and row["status"] == ".."
    assert frame["status"].notna().sum() == 1
    hanoi = frame[(frame["Địa phương"] == "2") & (frame["Năm"] == "13") & (frame["Chỉ tiêu"] == "1")]
    assert hanoi["value"].tolist() == [8718.0]


def test_index_as_array_equals_index_as_object() -> None:
    as_object = load("pxweb_query_response.jsonstat2.json")
    as_array = copy.deepcopy(as_object)
    for dim in as_array["dimension"].values():
        index = dim["category"]["index"]
        dim["category"]["index"] = sorted(index, key=index.get)
    a, b = jsonstat.read(as_object).frame(), jsonstat.read(as_array).frame()
    assert a.equals(b)


def test_index_object_out_of_order_positions() -> None:
    payload = {
        "version": "2.0",
        "class": "dataset",
        "id": ["t"],
        "size": [3],
        "dimension": {"t": {"category": {"index": {"2025": 2, "2023": 0, "2024": 1}}}},
        "value": [1, 2, 3],
    }
    frame = jsonstat.read(payload).frame()
    assert frame["t"].tolist() == ["2023", "2024", "2025"]
    assert frame["value"].tolist() == [1, 2, 3]


def test_label_only_single_category_status_array_and_string_values() -> None:
    data = jsonstat.read(load("jsonstat_edge_array.json"))
    assert data.dimension("Tỉnh").codes == ("66",)
    assert data.dimension("Tỉnh").labels == ("Đắk Lắk",)
    assert data.dimension("Tháng").labels == ("2026M01", "2026M02", "2026M03")  # code when no label
    frame = data.frame()
    assert frame["Tỉnh"].unique().tolist() == ["66"]
    values = frame["value"].tolist()
    assert values[0] == 104.2 and values[2] == 106.0 and values[3] == 120.0
    assert math.isnan(values[1]) and frame["status"][1] == "n/a"  # string → missing, kept in status
    assert math.isnan(values[4]) and frame["status"][4] == "-"  # the reader gives symbols no meaning
    assert values[5] == 95.5 and frame["status"].isna()[5]  # numeric strings are numbers
    assert frame["status"][2] == "p"
    assert data.dimension("Chỉ tiêu").units["EXP"]["base"] == "triệu USD"
    assert data.role["time"] == ["Tháng"]


def test_sparse_value_object_and_status_object() -> None:
    data = jsonstat.read(load("jsonstat_edge_sparse.json"))
    frame = data.frame()
    # listed cells 0, 4, 5, plus cell 2 that only `status` mentions; cells 1 and 3 are absent
    assert data.cells.tolist() == [0, 2, 4, 5]
    assert frame["a"].tolist() == ["X", "X", "Y", "Y"]
    assert frame["t"].tolist() == ["2024", "Sơ bộ 2026", "2025", "Sơ bộ 2026"]
    assert frame["value"].tolist()[0] == 1.5 and frame["value"].tolist()[2] == 7
    assert math.isnan(frame["value"][1]) and frame["status"][1] == ".."
    assert math.isnan(frame["value"][3]) and frame["status"][3] == ".."
    assert frame["status"].isna().tolist() == [True, False, True, False]


def test_status_as_one_string_applies_to_every_cell() -> None:
    frame = jsonstat.read(load("jsonstat_edge_status_string.json")).frame()
    assert frame["status"].tolist() == ["e", "e"]
    assert frame["value"].tolist() == [10, 11]


def test_jsonstat_1x_bundle_is_unwrapped() -> None:
    data = jsonstat.read(load("jsonstat_v1_bundle.json"))
    assert data.ids == ("Region", "Tid")
    assert data.role == {"time": ["Tid"]}
    assert data.values.tolist() == [10551707, 10587710]


def test_positions_are_row_major() -> None:
    data = jsonstat.read(load("pxweb_query_response.jsonstat2.json"))
    flat = np.arange(12)
    assert data.positions("Địa phương").tolist() == (flat // 6 % 2).tolist()
    assert data.positions("Năm").tolist() == (flat // 3 % 2).tolist()
    assert data.positions("Chỉ tiêu").tolist() == (flat % 3).tolist()


def test_metadata_only_dimensions() -> None:
    dims = jsonstat.read_dimensions(load("pxweb_v2_metadata.json"))
    assert [d.id for d in dims] == ["Region", "ContentsCode", "Tid"]
    assert dims[0].extension["elimination"] is True


def _base() -> dict[str, Any]:
    return {
        "version": "2.0",
        "class": "dataset",
        "id": ["a", "b"],
        "size": [2, 2],
        "dimension": {
            "a": {"category": {"index": ["x", "y"]}},
            "b": {"category": {"index": {"p": 0, "q": 1}}},
        },
        "value": [1, 2, 3, 4],
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.update(value=[1, 2, 3]), "3 cells; size"),
        (lambda p: p.update(size=[2, 3]), "size says 3"),
        (lambda p: p.update(version="1.0"), "unsupported JSON-stat version"),
        (lambda p: p.update({"class": "collection"}), "not a dataset"),
        (lambda p: p["dimension"].pop("b"), "not described"),
        (lambda p: p["dimension"]["b"]["category"].update(index={"p": 0, "q": 0}), "permutation"),
        (lambda p: p["dimension"]["a"]["category"].pop("index"), "only allowed for a single category"),
        (lambda p: p.update(value={"9": 1}), "outside"),
        (lambda p: p.update(status=["a", "b"]), "status` array has 2"),
        (lambda p: p.update(value="12"), "array or an object"),
        (lambda p: p.update(id=["a", ["b"]]), "dimension ids"),
        (lambda p: p.update(size=[2, 10**12]), "non-negative integers"),
        (lambda p: p.update(size=[10**6, 10**6]), "more than"),
        (lambda p: p["dimension"]["a"]["category"].update(index=["x", {"y": 1}]), "not a short text"),
    ],
)
def test_malformed_datasets_are_rejected_clearly(change: Any, message: str) -> None:
    payload = _base()
    change(payload)
    with pytest.raises(jsonstat.JsonStatError, match=message):
        jsonstat.read(payload)


def test_cells_that_cannot_be_stored_are_listed_with_a_reason() -> None:
    """Record-level problems (found by the property tests) are per cell, not a failure of the dataset."""
    payload = _base()
    payload["value"] = [1, True, "1,5", float("inf")]
    payload["status"] = {"0": {"a": 1}, "1": "e"}
    dataset = jsonstat.read(json.loads(json.dumps(payload)))
    assert dataset.problems.tolist() == [
        "status: not a short status symbol",
        "value: true is not a number",
        "value: '1,5' is not a number",  # a decimal comma is never read as 15
        "value: NaN and ±Infinity are not numbers",
    ]
    assert dataset.values[0] == 1.0 and np.isnan(dataset.values[1:]).all()


def test_bundle_with_two_datasets_is_rejected() -> None:
    one = load("jsonstat_v1_bundle.json")["dataset"]
    with pytest.raises(jsonstat.JsonStatError, match="exactly one dataset"):
        jsonstat.read({"dataset": one, "dataset2": one})
    with pytest.raises(jsonstat.JsonStatError, match="JSON object"):
        jsonstat.read([1, 2])
