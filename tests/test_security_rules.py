"""Pure rules of the access guard: which roles a path or a callback request needs, safe redirects."""

from __future__ import annotations

from dashboard.security import rules


def _router(path: str) -> dict[str, object]:
    return {
        "output": ".._pages_content.children..._pages_store.data..",
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": path}],
    }


def test_page_roles() -> None:
    assert rules.page_roles("/desk/services") is None
    assert rules.page_roles("/admin/audit") == {"admin"}
    assert rules.page_roles("/wall/control") == {"admin", "operator"}
    assert rules.page_roles("/wall/ops-1") == rules.READ_ALL
    assert not rules.allowed(("staff",), rules.page_roles("/wall/ops-1"))
    assert rules.allowed(("admin",), rules.page_roles("/wall/control"))
    assert not rules.allowed(("leader",), rules.page_roles("/wall/control"))


def test_callback_roles_follow_the_page_or_the_wall_control() -> None:
    assert rules.router_path(_router("/wall/ops-1")) == "/wall/ops-1"
    assert rules.callback_roles(_router("/admin")) == {"admin"}
    assert rules.callback_roles({"output": "..wall-ctl-changed.data@12ab.."}) == {"admin", "operator"}
    assert rules.callback_roles({"output": "desk-table.children"}) is None
    assert rules.router_path({"output": "desk-table.children", "inputs": []}) is None
    assert rules.router_path("not a dict") is None


def test_wall_screen_and_public_paths() -> None:
    assert rules.wall_screen("/wall/ops-1") == "ops-1"
    assert rules.wall_screen("/wall/data/ops-1") == "ops-1"
    assert rules.wall_screen("/wall/control") is None
    assert rules.wall_screen("/wall/time") is None
    assert rules.wall_screen("/wall/data/../x") is None
    assert rules.is_public("/assets/desk.css") and rules.is_public("/login")
    assert not rules.is_public("/_dash-layout")


def test_safe_next_stays_on_this_site() -> None:
    assert rules.safe_next("/desk/list?kpi=x") == "/desk/list?kpi=x"
    for hostile in ("//evil.example/", "https://evil.example/", "/\\evil.example", None, ""):
        assert rules.safe_next(hostile) == "/"
