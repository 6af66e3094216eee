"""`fenqi identity`: create users and API keys from the command line."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import select

from fenqi.identity.roles import ROLES, SHOPPER

NAME = "identity"
app = typer.Typer(help="Users, roles and API keys.", no_args_is_help=True)
console = Console()


@app.command("create-user")
def create_user_cmd(
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}")],
    name: Annotated[str, typer.Option(help="Display name, e.g. 李店员")],
    username: Annotated[str | None, typer.Option(help="Staff sign-in name")] = None,
    password: Annotated[str | None, typer.Option(help="Staff password (prompted when omitted)")] = None,
    phone: Annotated[str | None, typer.Option(help="Shopper's mobile number")] = None,
    merchant_id: Annotated[int | None, typer.Option(help="Merchant of a clerk or merchant owner")] = None,
) -> None:
    """Create a staff user (username + password) or a shopper (phone)."""
    from fenqi.identity.errors import InvalidInput
    from fenqi.identity.service import audit, create_user
    from fenqi.kit.cli import run_domain
    from fenqi.kit.db import session_scope

    if role != SHOPPER and username and password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    def create() -> tuple[int, str]:
        if role == SHOPPER and not phone:
            raise InvalidInput.saying("顾客账号须提供手机号（--phone）", "a shopper needs a phone number (--phone)")
        if role != SHOPPER and not username:
            raise InvalidInput.saying("员工账号须提供登录名（--username）",
                                      "a staff user needs a sign-in name (--username)")
        with session_scope() as session:
            user = create_user(session, role=role, display_name=name, username=username, password=password,
                               phone=phone, merchant_id=merchant_id)
            audit(session, actor_user_id=None, action="user.created", subject=f"user:{user.id}", detail=role)
            return user.id, user.role

    user_id, user_role = run_domain(create)
    console.print(f"created user {user_id} ({user_role})")


@app.command("create-api-key")
def create_api_key_cmd(
    username: Annotated[str, typer.Option(help="The staff user the key acts as")],
    name: Annotated[str, typer.Option(help="What the key is for")] = "default",
) -> None:
    """Create an API key; it is printed once and stored only as a hash."""
    from fenqi.identity.models import User
    from fenqi.identity.service import audit, create_api_key
    from fenqi.kit.cli import run_domain
    from fenqi.kit.db import session_scope
    from fenqi.kit.errors import NotFound

    def create() -> str:
        with session_scope() as session:
            user = session.scalar(select(User).where(User.username == username.strip().lower()))
            if user is None:
                raise NotFound.saying(f"用户 {username}", f"user {username}")
            row, key = create_api_key(session, user, name)
            audit(session, actor_user_id=None, action="api_key.created", subject=f"api_key:{row.id}", detail=name)
            return key

    key = run_domain(create)
    console.print("API key (shown only now; store it safely):", highlight=False)
    typer.echo(key)


@app.command("set-password")
def set_password_cmd(
    username: Annotated[str, typer.Option(help="The staff user")],
    password: Annotated[str | None, typer.Option(help="New password (prompted when omitted)")] = None,
) -> None:
    """Set a staff user's password (also lifts a lock after failed sign-ins)."""
    from fenqi.identity.models import User
    from fenqi.identity.service import audit, set_password
    from fenqi.kit.cli import run_domain
    from fenqi.kit.db import session_scope
    from fenqi.kit.errors import NotFound

    if password is None:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    new_password: str = password

    def change() -> None:
        with session_scope() as session:
            user = session.scalar(select(User).where(User.username == username.strip().lower()))
            if user is None:
                raise NotFound.saying(f"用户 {username}", f"user {username}")
            set_password(session, user, new_password)
            audit(session, actor_user_id=None, action="password.set", subject=f"user:{user.id}")

    run_domain(change)
    console.print(f"password of {username} changed")
