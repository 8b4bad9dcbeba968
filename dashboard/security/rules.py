"""Which reader may ask for what: pure functions of a path (and a Dash callback request's body).

Readers: a logged-in account (with roles), or a wall kiosk (a screen's token), or nobody. A kiosk gets
its own screen's page, data and clock, Dash's structure (layout, dependencies) and the page router's
answer for its own screen's path; nothing else, not even another screen.
"""

from __future__ import annotations

import re
from typing import Any

#: served to anyone: the login page, static files and Dash's JavaScript bundles
PUBLIC_PATHS = frozenset({"/login", "/logout", "/favicon.ico", "/_favicon.ico"})
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/")
#: Dash's structure (no data): needed by every page, kiosks included
DASH_STRUCTURE = frozenset({"/_dash-layout", "/_dash-dependencies"})
CALLBACK_PATH = "/_dash-update-component"
#: the wall's shared helpers (the clock, the service worker)
WALL_SHARED = frozenset({"/wall/time", "/wall/sw.js"})
_WALL_SCREEN = re.compile(r"^/wall/(?:data/)?(?P<screen>[A-Za-z0-9_.-]+)$")
#: Dash callbacks whose outputs start with these ids act on the wall (the operator's control page)
OPERATOR_OUTPUTS = ("wall-ctl-",)

READ_ALL = frozenset({"admin", "operator", "leader"})


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def wall_screen(path: str) -> str | None:
    """The screen id of `/wall/<screen>` or `/wall/data/<screen>` (not the control page or the room)."""
    match = _WALL_SCREEN.match(path)
    if match is None or path in WALL_SHARED or path == "/wall/control":
        return None
    return match.group("screen")


def page_roles(path: str) -> frozenset[str] | None:
    """Roles that may open a page or route (None: any logged-in account). `admin` passes every rule."""
    if path.startswith("/admin"):
        return frozenset({"admin"})
    if path == "/wall/control":
        return frozenset({"admin", "operator"})
    if path == "/wall" or path.startswith("/wall/"):
        return READ_ALL  # the wall shows the whole province: not for department-scoped staff
    return None


def allowed(roles: tuple[str, ...] | frozenset[str], needed: frozenset[str] | None) -> bool:
    return needed is None or "admin" in roles or bool(needed & set(roles))


def router_body(path: str, search: str = "") -> dict[str, Any]:
    """The request body Dash's page router posts to render `path` (tests and the load bench send it)."""
    return {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [
            {"id": "_pages_content", "property": "children"},
            {"id": "_pages_store", "property": "data"},
        ],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": path},
            {"id": "_pages_location", "property": "search", "value": search},
        ],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }


def router_path(body: Any) -> str | None:
    """The page path a Dash pages-router callback asks to render (None: not the router)."""
    if not isinstance(body, dict) or "_pages_content.children" not in str(body.get("output", "")):
        return None
    for item in body.get("inputs") or ():
        if (
            isinstance(item, dict)
            and item.get("id") == "_pages_location"
            and item.get("property") == "pathname"
        ):
            value = item.get("value")
            return value if isinstance(value, str) else None
    return None


def callback_roles(body: Any) -> frozenset[str] | None:
    """Roles a Dash callback request needs: the router needs the page's roles, the wall control's
    callbacks need operator, others any logged-in account (the read model scopes their numbers)."""
    path = router_path(body)
    if path is not None:
        return page_roles(path)
    output = str(body.get("output", "")) if isinstance(body, dict) else ""
    if any(prefix in output for prefix in OPERATOR_OUTPUTS):
        return frozenset({"admin", "operator"})
    return None


def safe_next(target: str | None) -> str:
    """Where to go after login: a local path only (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
