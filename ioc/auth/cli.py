"""`ioc users add|list|disable|enable|reset-password|set-roles`, `ioc wall token SCREEN [--revoke]` and
`ioc db roles`, added to the `ioc` command through the `ioc.commands` entry point.

Passwords are never arguments (they would sit in the shell history and the process list): they are
read with a hidden prompt, or from the environment variable named by `--password-env`, or generated
(`--generate`, shown once). Every change is written to the audit log as `cli:<os user>`.
"""

from __future__ import annotations

import getpass
import os
import sys
from typing import Annotated

import typer

from ioc.auth import accounts, audit, dbroles, kiosk
from ioc.auth import passwords as pw
from ioc.cli.common import state

users_app = typer.Typer(no_args_is_help=True)
wall_app = typer.Typer(no_args_is_help=True)

PasswordEnv = Annotated[
    str | None, typer.Option("--password-env", help="read the password from this environment variable")
]
Generate = Annotated[bool, typer.Option("--generate", help="generate a random password and show it once")]
Roles = Annotated[
    list[str], typer.Option("--role", "-r", help="admin, operator, leader or staff (repeatable)")
]
Departments = Annotated[
    list[str] | None, typer.Option("--department", "-d", help="staff scope: department code (repeatable)")
]
Areas = Annotated[list[str] | None, typer.Option("--area", "-a", help="staff scope: area code (repeatable)")]


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(1)


def read_password(password_env: str | None, generate: bool) -> tuple[str, bool]:
    """(password, generated). Never from argv; never echoed unless generated here."""
    if generate:
        return pw.generate(), True
    if password_env:
        value = os.environ.get(password_env)
        if not value:
            raise _fail(
                f"biến môi trường {password_env} trống / environment variable {password_env} is not set"
            )
        return value, False
    if not sys.stdin.isatty():
        raise _fail(
            "không có terminal: dùng --password-env hoặc --generate / no terminal: use --password-env"
        )
    return typer.prompt("Mật khẩu / password", hide_input=True, confirmation_prompt=True), False


def _show(account: accounts.Account) -> str:
    scope = []
    if account.departments:
        scope.append("đơn vị " + ",".join(account.departments))
    if account.areas:
        scope.append("địa bàn " + ",".join(account.areas))
    status = "khoá" if not account.active else "hoạt động"
    return f"{account.username}\t{','.join(account.roles)}\t{'; '.join(scope) or 'toàn tỉnh'}\t{status}"


@users_app.command("add")
def add_command(
    ctx: typer.Context,
    username: str,
    role: Roles,
    department: Departments = None,
    area: Areas = None,
    name: Annotated[str | None, typer.Option(help="display name")] = None,
    password_env: PasswordEnv = None,
    generate: Generate = False,
    no_password: Annotated[bool, typer.Option(help="trusted-header sign-on only, no password login")] = False,
) -> None:
    """Create an account."""
    secret, generated = (None, False) if no_password else read_password(password_env, generate)
    with state(ctx).open_database() as database, database.engine.begin() as connection:
        try:
            account = accounts.add(
                connection, username, secret, role, departments=department, areas=area, display_name=name
            )
        except (accounts.AccountError, pw.WeakPassword) as exc:
            raise _fail(str(exc)) from None
        audit.record(
            connection, _actor(), "user.add", {"user": account.username, "roles": list(account.roles)}
        )
    typer.echo(f"đã tạo / created: {_show(account)}")
    if generated:
        typer.echo(f"mật khẩu (chỉ hiện một lần) / password (shown once): {secret}")


@users_app.command("list")
def list_command(ctx: typer.Context) -> None:
    """List accounts (name, roles, scope, status)."""
    with state(ctx).open_database() as database, database.engine.connect() as connection:
        for account in accounts.list_users(connection):
            typer.echo(_show(account))


def _change(ctx: typer.Context, username: str, action: str, disabled: bool) -> None:
    with state(ctx).open_database() as database, database.engine.begin() as connection:
        try:
            account = accounts.set_disabled(connection, username, disabled)
        except accounts.AccountError as exc:
            raise _fail(str(exc)) from None
        audit.record(connection, _actor(), action, {"user": account.username})
    typer.echo(_show(account))


@users_app.command("disable")
def disable_command(ctx: typer.Context, username: str) -> None:
    """Disable an account (its open sessions end at their next request)."""
    _change(ctx, username, "user.disable", True)


@users_app.command("enable")
def enable_command(ctx: typer.Context, username: str) -> None:
    """Enable a disabled account again."""
    _change(ctx, username, "user.enable", False)


@users_app.command("reset-password")
def reset_password_command(
    ctx: typer.Context, username: str, password_env: PasswordEnv = None, generate: Generate = False
) -> None:
    """Set a new password (ends the account's sessions and lockout)."""
    secret, generated = read_password(password_env, generate)
    with state(ctx).open_database() as database, database.engine.begin() as connection:
        try:
            account = accounts.set_password(connection, username, secret)
        except (accounts.AccountError, pw.WeakPassword) as exc:
            raise _fail(str(exc)) from None
        audit.record(connection, _actor(), "user.reset_password", {"user": account.username})
    typer.echo(f"đã đổi mật khẩu / password changed: {account.username}")
    if generated:
        typer.echo(f"mật khẩu (chỉ hiện một lần) / password (shown once): {secret}")


@users_app.command("set-roles")
def set_roles_command(
    ctx: typer.Context, username: str, role: Roles, department: Departments = None, area: Areas = None
) -> None:
    """Replace an account's roles and scope."""
    with state(ctx).open_database() as database, database.engine.begin() as connection:
        try:
            account = accounts.set_roles(connection, username, role, departments=department, areas=area)
        except accounts.AccountError as exc:
            raise _fail(str(exc)) from None
        audit.record(
            connection,
            _actor(),
            "user.set_roles",
            {
                "user": account.username,
                "roles": list(account.roles),
                "departments": list(account.departments or ()),
                "areas": list(account.areas or ()),
            },
        )
    typer.echo(_show(account))


@wall_app.command("token")
def token_command(
    ctx: typer.Context,
    screen: str,
    revoke: Annotated[bool, typer.Option("--revoke", help="revoke the screen's tokens instead")] = False,
) -> None:
    """A kiosk token for one wall screen (shown once: open /wall/SCREEN?token=…), or --revoke them."""
    settings = state(ctx).settings
    if settings.wall.screen(screen) is None:
        raise _fail(f"không có màn hình / no wall screen {screen!r} in the config")
    with state(ctx).open_database() as database, database.engine.begin() as connection:
        if revoke:
            count = kiosk.revoke(connection, screen)
            audit.record(connection, _actor(), "kiosk.revoke", {"screen": screen, "tokens": count})
            typer.echo(f"đã thu hồi {count} mã / revoked {count} token(s) of {screen}")
            return
        token = kiosk.issue(connection, screen)
        audit.record(connection, _actor(), "kiosk.issue", {"screen": screen})
    host, port = settings.web.host, settings.web.port
    typer.echo(
        f"URL màn hình (chỉ hiện một lần) / kiosk URL (shown once): http://{host}:{port}/wall/{screen}?token={token}"
    )


def roles_command(
    ctx: typer.Context,
    web_role: Annotated[str, typer.Option(help="role the web app connects as")] = "ioc_web",
    password_env: Annotated[
        str | None,
        typer.Option("--password-env", help="environment variable with the role's password (LOGIN)"),
    ] = None,
) -> None:
    """Create or refresh the web app's database role: reads facts, writes only its own tables."""
    secret = None
    if password_env:
        secret = os.environ.get(password_env)
        if not secret:
            raise _fail(f"environment variable {password_env} is not set")
    with state(ctx).open_database() as database, database.engine.begin() as connection:
        granted = dbroles.create_web_role(connection, web_role, secret)
        audit.record(connection, _actor(), "db.roles", {"role": web_role, "writes": list(granted)})
    typer.echo(f"vai trò {web_role}: đọc mọi bảng, ghi {', '.join(granted)}")


def register(app: typer.Typer) -> None:
    """Add `users`, `wall token` and `db roles` to the `ioc` command."""
    from ioc.cli import db

    app.add_typer(
        users_app, name="users", help="Staff accounts: add, list, disable, reset-password, set-roles."
    )
    app.add_typer(wall_app, name="wall", help="Wall kiosks: per-screen tokens.")
    db.app.command("roles")(roles_command)
