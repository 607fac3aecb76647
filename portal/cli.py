"""Flask commands: seed-demo, create-user, backup."""
import hashlib
import json
import shutil
import sqlite3
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from . import database
from .database import write_transaction
from .extensions import db
from .models import Customer, Role, User


def register(app) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_user)
    app.cli.add_command(backup)
    app.cli.add_command(analyze)


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Only when the database has no users yet (make run).")
@click.option("--customers", default=None, type=click.IntRange(0, 200_000),
              help="Make the archive hold at least this many customers (default 40).")
@click.option("--orders", default=None, type=click.IntRange(0, 1_000_000),
              help="Make the database hold at least this many orders (default 60), in every state.")
def seed_demo(if_empty: bool, customers: int | None, orders: int | None) -> None:
    """Load the demo accounts and data (idempotent). Never on a production database."""
    from . import demo

    with write_transaction():
        if if_empty and demo.has_users():
            click.echo("Database has users; demo data not loaded.")
            return
        counts = demo.seed(customers if customers is not None else demo.DEFAULT_CUSTOMERS, orders=orders)
        db.session.commit()
    database.analyze()
    click.echo("Demo data ready: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@click.command("analyze")
@with_appcontext
def analyze() -> None:
    """Refresh the database's query-planner statistics (run by `make serve`; weekly from cron on big sites)."""
    database.analyze()
    click.echo("Statistics refreshed.")


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--customer", "customer_code", help="Customer code, for portal users.")
@click.option("--name", "display_name", help="Display name (default: the user name).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Asked for when not given.")
def create_user(username, role, customer_code, display_name, password) -> None:
    """Create a user (the first administrator of a new site, for example)."""
    from .admin.services import AdminError
    from .admin.services import create_user as create

    with write_transaction():
        try:
            user = create({"username": username, "display_name": display_name or username, "role": role,
                           "customer_code": customer_code, "password": password, "active": True})
        except AdminError as error:
            raise click.ClickException(str(error)) from None
        db.session.commit()
    click.echo(f"Created {user.username} ({user.role}).")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@click.command("backup")
@with_appcontext
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
def backup(target: Path) -> None:
    """Copy the database (consistent, while the portal runs) and the instance files into TARGET."""
    if target.exists() and any(target.iterdir()):
        raise click.ClickException(f"{target} is not empty")
    target.mkdir(parents=True, exist_ok=True)
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    instance = Path(current_app.instance_path)
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(url.database)
        copy = sqlite3.connect(target / "portal.db")
        with copy:
            source.backup(copy)  # the online backup API: a consistent snapshot, writers keep going
        copy.close()
        source.close()
    elif url.get_backend_name() == "postgresql":
        if not shutil.which("pg_dump"):
            raise click.ClickException("pg_dump is not installed; see docs/deployment.md")
        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        subprocess.run(["pg_dump", "--format=custom", "--file", str(target / "portal.pgdump"), plain],
                       check=True)
    else:
        raise click.ClickException(f"no backup method for {url.get_backend_name()}")
    for folder in ("uploads", "documents"):
        if (instance / folder).is_dir():
            shutil.copytree(instance / folder, target / folder)
    files = sorted(p for p in target.rglob("*") if p.is_file())
    manifest = {
        "taken_at": datetime.now(timezone.utc).isoformat(),
        "database": url.get_backend_name(),
        "users": db.session.scalar(select(func.count()).select_from(User)),
        "customers": db.session.scalar(select(func.count()).select_from(Customer)),
        "files": {str(p.relative_to(target)): _sha256(p) for p in files},
    }
    (target / "MANIFEST.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    click.echo(f"Backup written to {target} ({len(files)} files).")
