"""Accounts, lockout, kiosk tokens, audit and the web database role (issue 11, no web server)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy import Engine, insert, make_url, text

from ioc.auth import accounts, audit, dbroles, kiosk
from ioc.auth.config import LockoutConfig
from ioc.auth.scoped import ScopedReadModel
from ioc.queries import EVERYTHING, Scope
from tests.test_kpi_engine import kdb  # noqa: F401  (fixture)

PASSWORD = "mật-khẩu-đủ-dài-1"
LOCKOUT = LockoutConfig(after_failures=3, base_seconds=60, max_seconds=600)


def test_password_is_stored_as_argon2_and_checked(db: Engine) -> None:
    with db.begin() as connection:
        accounts.add(connection, "Lan.Nguyen", PASSWORD, ["staff"], departments=["SYT"])
        stored = connection.execute(text("SELECT password_hash FROM app_user")).scalar_one()
        assert stored.startswith("$argon2id$") and PASSWORD not in stored
        assert accounts.authenticate(connection, "lan.nguyen", PASSWORD, LOCKOUT).outcome == "ok"
        assert accounts.authenticate(connection, "lan.nguyen", "sai-mat-khau-1", LOCKOUT).outcome == "bad"
        assert accounts.authenticate(connection, "nobody", PASSWORD, LOCKOUT).outcome == "bad"


def test_lockout_backs_off_and_refuses_the_right_password_meanwhile(db: Engine) -> None:
    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    with db.begin() as connection:
        accounts.add(connection, "an", PASSWORD, ["leader"])
        outcomes = [accounts.authenticate(connection, "an", "wrong-password", LOCKOUT, now) for _ in range(3)]
        assert [o.outcome for o in outcomes] == ["bad", "bad", "locked"]
        assert outcomes[2].locked_until == now + timedelta(seconds=60)
        # while locked even the right password is refused, and tries do not count
        assert accounts.authenticate(connection, "an", PASSWORD, LOCKOUT, now).outcome == "locked"
        later = now + timedelta(seconds=61)
        again = accounts.authenticate(connection, "an", "wrong-password", LOCKOUT, later)
        assert again.outcome == "locked" and again.locked_until == later + timedelta(seconds=120)  # doubles
        latest = later + timedelta(seconds=121)
        assert accounts.authenticate(connection, "an", PASSWORD, LOCKOUT, latest).outcome == "ok"
        assert accounts.get(connection, "an").failed_logins == 0  # type: ignore[union-attr]
    assert accounts.lock_delay(50, LOCKOUT) == timedelta(seconds=600)


def test_disabled_and_unscoped_accounts_cannot_log_in(db: Engine) -> None:
    with db.begin() as connection:
        accounts.add(connection, "binh", PASSWORD, ["staff"], areas=["66"])
        before = accounts.get(connection, "binh")
        accounts.set_disabled(connection, "binh")
        assert accounts.authenticate(connection, "binh", PASSWORD, LOCKOUT).outcome == "disabled"
        after = accounts.get(connection, "binh")
        assert before is not None and after is not None and after.session_epoch > before.session_epoch
        with pytest.raises(accounts.AccountError):
            accounts.add(connection, "chi", PASSWORD, ["staff"])  # staff without a scope
        with pytest.raises(accounts.AccountError):
            accounts.add(connection, "chi", PASSWORD, ["root"])
        account = accounts.set_roles(connection, "binh", ["staff"], departments=["STC", "SYT"])
        assert account.scope() == Scope(departments=frozenset({"STC", "SYT"}))
        assert accounts.set_roles(connection, "binh", ["leader"]).scope() == EVERYTHING


def test_kiosk_tokens_are_hashed_per_screen_and_revocable(db: Engine) -> None:
    with db.begin() as connection:
        token = kiosk.issue(connection, "ops-1")
        assert (
            connection.execute(
                text("SELECT count(*) FROM kiosk_token WHERE token_hash = :t"), {"t": token}
            ).scalar()
            == 0
        )
        assert kiosk.screen_of(connection, token) == "ops-1"
        assert kiosk.screen_of(connection, token + "x") is None
        assert kiosk.revoke(connection, "ops-1") == 1
        assert kiosk.screen_of(connection, token) is None


def test_scoped_read_model_refuses_what_the_scope_does_not_cover(db: Engine, settings) -> None:  # type: ignore[no-untyped-def]
    from ioc.kpi import load_library
    from ioc.queries import ReadModel

    model = ScopedReadModel(
        ReadModel(db, load_library(settings.kpi_dir), settings), Scope(departments=frozenset({"SYT"}))
    )
    with pytest.raises(PermissionError):
        model.rows("dossiers_received", area="66", filters={"department": "STC"})
    with pytest.raises(PermissionError):
        model.result("dossiers_received", area="66", narrowing=())  # a hand-made, unscoped narrowing
    assert dict(model.narrowing({}, EVERYTHING))["department"] == ("SYT",)
    with pytest.raises(PermissionError):
        ScopedReadModel(model, Scope(departments=frozenset()))
    commune = ScopedReadModel(model, Scope(areas=frozenset({"66999"})))
    with pytest.raises(PermissionError):
        commune.lineage("dossiers_received", area="66")  # the province is outside a commune's scope


def test_an_area_scope_follows_the_engines_area_tree_for_merged_units(kdb: Engine, settings) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """One rule for the scope and the numbers (`ioc.kpi.areas.area_codes`). An old town 66910 merged
    into ward 66001; its old commune 66911 went to commune 66002. A hand-written tree that follows
    every parent and successor link put 66911 inside 66001's scope, though its history counts in 66002."""
    from ioc.kpi import load_library
    from ioc.kpi.engine import compute
    from ioc.models import Dossier, OrgUnit
    from ioc.queries import ReadModel, lookups
    from tests.test_kpi_engine import _dossier, at

    ended = date(2025, 6, 30)
    with kdb.begin() as connection:
        connection.execute(
            insert(OrgUnit.__table__),
            [
                {"code": "66910", "name": "Thị xã Cũ", "kind": "thị xã", "level": 2, "parent_code": "66",
                 "valid_to": ended, "successor_code": "66001"},
                {"code": "66911", "name": "Xã Cũ", "kind": "xã", "level": 3, "parent_code": "66910",
                 "valid_to": ended, "successor_code": "66002"},
            ],
        )  # fmt: skip
        connection.execute(
            insert(Dossier.__table__),
            [
                _dossier("e1", "66911", "online", at("2025-06-10"), None, None),
                _dossier("e2", "66910", "online", at("2025-06-12"), None, None),
            ],
        )
        assert lookups.subtree(connection, ["66001"]) == {"66001", "66003", "66910"}
        assert lookups.subtree(connection, ["66002"]) == {"66002", "66911"}
        assert lookups.subtree(connection, ["66911", "99999"]) == {"66911"}  # an old unit: its own
    library = load_library(settings.kpi_dir)
    base = ReadModel(kdb, library, settings)
    ward = ScopedReadModel(base, Scope(areas=frozenset({"66001"})))
    commune = ScopedReadModel(base, Scope(areas=frozenset({"66002"})))
    with pytest.raises(PermissionError):
        ward.lineage("dossiers_received", area="66911")  # 66002's history now
    with pytest.raises(PermissionError):
        ward.tiles(["dossiers_received"], area="66910", period="2025-06")  # its own history has e1
    commune.lineage("dossiers_received", area="66911")
    counted = compute(kdb, library, "dossiers_received", "2025-06", "66001").value
    shown = ward.tiles(["dossiers_received"], area="66001", period="2025-06", sparkline=0)
    listed = ward.rows("dossiers_received", area="66001", period="2025-06")
    assert counted == shown["dossiers_received"].value == 1  # e2: the old town's own dossiers
    assert [row["code"] for row in listed.rows] == ["e2"]
    went = commune.tiles(["dossiers_received"], area="66002", period="2025-06", sparkline=0)
    assert went["dossiers_received"].value == 1  # e1 counts where its commune went


def _ioc(config: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ioc", "--config", str(config), *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.slow
def test_cli_adds_lists_resets_and_never_echoes_a_given_password(
    db: Engine,
    database_env: str,
    settings,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    config = settings.source_file
    done = _ioc(
        config,
        "users",
        "add",
        "hoa",
        "--role",
        "staff",
        "--department",
        "SYT",
        "--password-env",
        "PW",
        env={"PW": PASSWORD},
    )
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    listed = _ioc(config, "users", "list")
    assert "hoa\tstaff\tđơn vị SYT\thoạt động" in listed.stdout
    no_terminal = _ioc(config, "users", "reset-password", "hoa")
    assert no_terminal.returncode == 1 and "--password-env" in no_terminal.stderr
    generated = _ioc(config, "users", "reset-password", "hoa", "--generate")
    assert generated.returncode == 0 and "shown once" in generated.stdout
    assert _ioc(config, "users", "disable", "hoa").returncode == 0
    with db.connect() as connection:
        actions = [e.action for e in audit.recent(connection)]
        assert actions[:3] == ["user.disable", "user.reset_password", "user.add"]
        assert accounts.get(connection, "hoa").active is False  # type: ignore[union-attr]


@pytest.fixture
def web_role(db: Engine) -> Iterator[str]:
    role = f"ioc_web_test_{os.getpid()}"
    with db.begin() as connection:
        dbroles.create_web_role(connection, role)
    yield role
    with db.begin() as connection:
        connection.execute(text(f'DROP OWNED BY "{role}"'))
        connection.execute(text(f'DROP ROLE "{role}"'))


def test_the_web_role_reads_facts_writes_its_tables_and_cannot_insert_a_dossier(
    db: Engine, web_role: str
) -> None:
    url = make_url(str(db.url)).set(username=web_role, password=None, drivername="postgresql")
    connection = psycopg2.connect(url.render_as_string(hide_password=False))
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM dossier")
            cursor.execute("SELECT count(*) FROM kpi.work_calendar")
            cursor.execute("INSERT INTO audit (actor, action) VALUES ('t', 'test')")
            cursor.execute("INSERT INTO wall_heartbeat (screen_id, seen_at) VALUES ('ops-1', now())")
            cursor.execute("INSERT INTO web_session (session_hash, account_id) SELECT 'h', id FROM app_user")
            cursor.execute("DELETE FROM web_session")  # logins and logouts
            connection.commit()
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute(
                    "INSERT INTO dossier (source, code, received_at, status) VALUES ('x', 'y', now(), 1)"
                )
            connection.rollback()
            for statement in (
                "DELETE FROM connector_run",
                "UPDATE dossier SET status = 1 WHERE false",
                "TRUNCATE audit",
            ):
                with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                    cursor.execute(statement)
                connection.rollback()
    finally:
        connection.close()
