"""The pages' only way to numbers: the Flask app's read model (`ioc.queries`), nothing else.

A thin adapter: it finds the app's :class:`ReadModel`, settings and the reader's scope for the current
request; every number comes from `ioc.queries`, never from SQL here or in a callback.
"""

from __future__ import annotations

from flask import current_app

from ioc.config import Settings
from ioc.queries import EVERYTHING, ReadModel, Scope


def read_model() -> ReadModel:
    model = current_app.config["IOC_READ_MODEL"]
    assert isinstance(model, ReadModel)
    return model


def current_settings() -> Settings:
    return read_model().settings


def current_scope() -> Scope:
    """What the current reader may see (everything until logins exist)."""
    return EVERYTHING


def province_name() -> str | None:
    """The configured province's name from the areas table (None before areas are loaded)."""
    model = read_model()
    return model.area_name(model.settings.province.code)
