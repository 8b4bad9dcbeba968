"""The pages' only way to numbers: the Flask app's read model (`ioc.queries`), nothing else.

A thin adapter: it finds the app's :class:`ReadModel`, settings and the reader's scope for the current
request; every number comes from `ioc.queries`, never from SQL here or in a callback.
"""

from __future__ import annotations

from flask import current_app, g

from ioc.auth.scoped import scoped
from ioc.config import Settings
from ioc.queries import EVERYTHING, ReadModel, Scope


def _app_model(name: str = "IOC_READ_MODEL") -> ReadModel:
    model = current_app.config[name]
    assert isinstance(model, ReadModel)
    return model


def read_model() -> ReadModel:
    """The app's read model bound to the current reader's scope (every question is scoped)."""
    return scoped(_app_model(), current_scope())


def wall_read_model() -> ReadModel:
    """The wall's read model (it follows every load; see `dashboard.app.read_models`), scoped."""
    return scoped(_app_model("IOC_WALL_READ_MODEL"), current_scope())


def current_settings() -> Settings:
    return _app_model().settings


def current_scope() -> Scope:
    """What the current reader may see, set for each request by the access guard (dashboard/security):
    the account's departments/areas, everything for leaders and wall kiosks. Without a reader (logins
    on, no guard ran) nothing is readable."""
    scope = g.get("ioc_scope")
    if isinstance(scope, Scope):
        return scope
    if current_app.config.get("IOC_AUTH_ENABLED", False):
        raise PermissionError("no reader for this request")
    return EVERYTHING


def province_name() -> str | None:
    """The configured province's name from the areas table (None before areas are loaded); a name,
    not data: the login page's shell shows it before anyone is known."""
    model = _app_model()
    return model.area_name(model.settings.province.code)
