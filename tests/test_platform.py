"""Schema, catalogs and time handling: the ground every area stands on."""
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from babel.messages.pofile import read_po

from portal.extensions import db
from portal.models import AuditLog

ROOT = Path(__file__).resolve().parent.parent


def test_migrations_match_the_models(app):
    """The schema built by the migrations is exactly what the models declare."""
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_catalog_is_complete(locale):
    path = ROOT / "portal/translations" / locale / "LC_MESSAGES/messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle)
    untranslated = [m.id for m in catalog if m.id and not (m.string if isinstance(m.string, str) else all(m.string))]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated, f"untranslated in {locale}: {untranslated[:10]}"
    assert not fuzzy, f"fuzzy in {locale}: {fuzzy[:10]}"


def test_catalog_covers_every_string_in_the_code():
    """Run `make i18n` after adding strings: the template must hold every marked string."""
    from babel.messages.extract import extract_from_dir

    with (ROOT / "portal/translations/messages.pot").open("rb") as handle:
        known = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    method_map = [("portal/**.py", "python"), ("templates/**.html", "jinja2")]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, keywords={"_": None, "gettext": None, "ngettext": (1, 2), "_l": None,
                                             "lazy_gettext": None}):
        found.add(message if isinstance(message, str) else message[0])
    missing = sorted(found - known)
    assert not missing, f"strings missing from the catalogs (run make i18n): {missing[:10]}"


def test_times_are_stored_in_utc_and_shown_in_shanghai(app, ctx):
    from flask_babel import format_datetime

    moment = datetime(2026, 3, 1, 16, 30, tzinfo=timezone.utc)
    entry = AuditLog(action="probe", at=moment)
    db.session.add(entry)
    db.session.commit()
    db.session.expire_all()
    loaded = db.session.get(AuditLog, entry.id)
    assert loaded.at == moment and loaded.at.tzinfo is not None
    assert format_datetime(loaded.at, "yyyy-MM-dd HH:mm") == "2026-03-02 00:30"


def test_naive_datetimes_are_refused(app, ctx):
    db.session.add(AuditLog(action="probe", at=datetime(2026, 1, 1)))
    with pytest.raises(Exception, match="naive"):
        db.session.flush()


def test_audit_filter_dates_are_local_days(app, ctx):
    from portal.admin.services import audit_query

    # 23:30 UTC on 1 March is 07:30 on 2 March in Shanghai.
    db.session.add(AuditLog(action="probe", at=datetime(2026, 3, 1, 23, 30, tzinfo=timezone.utc)))
    db.session.commit()
    day = datetime(2026, 3, 2).date()
    assert db.session.scalars(audit_query({"date_from": day, "date_to": day})).all()
    assert not db.session.scalars(audit_query({"date_to": day - timedelta(days=1)})).all()


def test_sqlite_is_tuned(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite only")
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
