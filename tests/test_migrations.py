"""Migrations build the schema from an empty database, and the models agree with them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from ioc.database import make_engine, temporary_database
from ioc.migrate import alembic_config, current_revision, head_revision, upgrade
from ioc.models import ALL_TABLES, Base


@pytest.fixture
def empty_engine(admin_url: str) -> Iterator[Engine]:
    with temporary_database(admin_url, prefix="ioc_mig") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def test_upgrade_from_empty_database(empty_engine: Engine) -> None:
    assert current_revision(empty_engine) is None
    upgrade(empty_engine)
    assert current_revision(empty_engine) == head_revision()
    tables = set(inspect(empty_engine).get_table_names())
    assert set(ALL_TABLES) <= tables
    upgrade(empty_engine)  # a second upgrade is a no-op
    assert current_revision(empty_engine) == head_revision()


def test_models_match_migrations(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                # tables owned by later migrations without a model (rollups, calendar) are not compared
                "include_name": lambda name, kind, _parent: kind != "table" or name in Base.metadata.tables,
            },
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_constraint_names_follow_the_convention(engine: Engine) -> None:
    inspector = inspect(engine)
    assert inspector.get_pk_constraint("dossier")["name"] == "pk_dossier"
    checks = {c["name"] for c in inspector.get_check_constraints("dossier")}
    assert "ck_dossier_status_range" in checks
    fks = {fk["name"] for fk in inspector.get_foreign_keys("procedure")}
    assert "fk_procedure_department_code_department" in fks


def _index_columns(engine: Engine, table: str, name: str) -> list[str | None]:
    return next(i["column_names"] for i in inspect(engine).get_indexes(table) if i["name"] == name)


def test_open_dossier_list_indexes_upgrade_and_downgrade(empty_engine: Engine) -> None:
    """0013 gives the open rows' due-date index the lists' tie-breakers, 0014 adds the open rows'
    received_at index (0016: with due_at last), 0015 widens the finished_at index; all go back."""
    head = {
        "ix_dossier_open_due": ["due_at", "source", "code"],
        "ix_dossier_open_received": ["received_at", "source", "code", "due_at"],
        "ix_dossier_finished_at_received_at_due_at": ["finished_at", "received_at", "due_at"],
    }
    upgrade(empty_engine, "0016")
    assert {name: _index_columns(empty_engine, "dossier", name) for name in head} == head
    command.downgrade(alembic_config(empty_engine), "0015")
    assert _index_columns(empty_engine, "dossier", "ix_dossier_open_received") == [
        "received_at",
        "source",
        "code",
    ]
    command.downgrade(alembic_config(empty_engine), "0012")
    assert _index_columns(empty_engine, "dossier", "ix_dossier_finished_at") == ["finished_at"]
    assert _index_columns(empty_engine, "dossier", "ix_dossier_open_due") == ["due_at"]
    names = {index["name"] for index in inspect(empty_engine).get_indexes("dossier")}
    assert not names & {"ix_dossier_open_received", "ix_dossier_finished_at_received_at_due_at"}
    upgrade(empty_engine)
    assert current_revision(empty_engine) == head_revision()
    assert {name: _index_columns(empty_engine, "dossier", name) for name in head} == head


def _unique_key(engine: Engine, table: str) -> list[str | None]:
    indexes = inspect(engine).get_indexes(table, schema="kpi")
    return next(i["column_names"] for i in indexes if i["name"] == f"uq_{table}_key")


def test_open_rollups_by_department_upgrade_and_downgrade(empty_engine: Engine) -> None:
    """0017 adds department_code to the dossier open-rows rollup and its history (and their unique
    keys), empties them and makes a full rebuild due; the downgrade goes back the same way."""
    upgrade(empty_engine, "0016")
    built = (
        "INSERT INTO kpi.rollup_state (dataset, refreshed_at, rows, pending_full) "
        "VALUES ('dossier', now(), 1, false), ('incident', now(), 1, false)",
        "INSERT INTO kpi.dossier_open (due_day, org_unit_code, channel, n) "
        "VALUES ('2026-11-30', '66', 'online', 1)",
    )
    pending = text("SELECT dataset, pending_full FROM kpi.rollup_state ORDER BY dataset")
    rows = text("SELECT count(*) FROM kpi.dossier_open")
    with empty_engine.begin() as connection:
        for statement in built:
            connection.execute(text(statement))
    upgrade(empty_engine, "0017")
    assert _unique_key(empty_engine, "dossier_open") == [
        "due_day",
        "org_unit_code",
        "department_code",
        "channel",
    ]
    assert _unique_key(empty_engine, "dossier_open_history") == [
        "moment_day",
        "due_day",
        "org_unit_code",
        "department_code",
        "channel",
    ]
    with empty_engine.begin() as connection:
        assert connection.execute(pending).all() == [("dossier", True), ("incident", False)]
        assert connection.execute(rows).scalar() == 0
        connection.execute(text("UPDATE kpi.rollup_state SET pending_full = false"))
        connection.execute(
            text(
                "INSERT INTO kpi.dossier_open (due_day, org_unit_code, department_code, channel, n) "
                "VALUES ('2026-11-30', '66', 'SYT', 'online', 1), ('2026-11-30', '66', 'SNV', 'online', 2)"
            )
        )
    command.downgrade(alembic_config(empty_engine), "0016")
    assert _unique_key(empty_engine, "dossier_open") == ["due_day", "org_unit_code", "channel"]
    assert _unique_key(empty_engine, "dossier_open_history") == [
        "moment_day",
        "due_day",
        "org_unit_code",
        "channel",
    ]
    columns = {c["name"] for c in inspect(empty_engine).get_columns("dossier_open_history", schema="kpi")}
    assert "department_code" not in columns
    with empty_engine.begin() as connection:
        assert connection.execute(pending).all() == [("dossier", True), ("incident", False)]
        assert connection.execute(rows).scalar() == 0
    upgrade(empty_engine)
    assert current_revision(empty_engine) == head_revision()
