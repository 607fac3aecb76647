"""Settings from environment variables, `instance/config.py`, and the factory's overrides."""
import os
import secrets
from datetime import timedelta
from pathlib import Path


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(instance_path: Path) -> str:
    """The key from PORTAL_SECRET_KEY, else one generated once into instance/secret_key."""
    given = os.environ.get("PORTAL_SECRET_KEY")
    if given:
        return given
    path = instance_path / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def load(app, overrides: dict | None) -> None:
    """Fill app.config; `overrides` (tests, embedding) win over everything else."""
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    for sub in ("uploads", "documents"):
        (instance / sub).mkdir(exist_ok=True)
    overrides = dict(overrides or {})

    upload_mb = int(os.environ.get("PORTAL_UPLOAD_MAX_MB", "10"))
    app.config.update(
        SQLALCHEMY_DATABASE_URI=os.environ.get(
            "PORTAL_DATABASE_URL", f"sqlite:///{instance / 'portal.db'}"
        ),
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        # SQLite: how long a writer waits for another's write lock before the user gets "busy, try again".
        SQLITE_BUSY_TIMEOUT_MS=int(os.environ.get("PORTAL_SQLITE_BUSY_TIMEOUT_MS", "15000")),
        UPLOAD_MAX_BYTES=upload_mb * 1024 * 1024,
        # The request body may carry a little form data besides the largest upload.
        MAX_CONTENT_LENGTH=upload_mb * 1024 * 1024 + 256 * 1024,
        SESSION_COOKIE_NAME="portal_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=_flag("PORTAL_COOKIE_SECURE"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=int(os.environ.get("PORTAL_SESSION_IDLE_HOURS", "12"))),
        SESSION_ABSOLUTE_LIFETIME=timedelta(days=int(os.environ.get("PORTAL_SESSION_MAX_DAYS", "7"))),
        REMEMBER_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=None,  # the token is bound to the session, which expires by itself
        BABEL_DEFAULT_LOCALE="zh",
        BABEL_DEFAULT_TIMEZONE=os.environ.get("PORTAL_TIMEZONE", "Asia/Shanghai"),
        BABEL_TRANSLATION_DIRECTORIES="translations",
        # memory:// counts in each process: with several gunicorn workers use redis://host:6379/0, shared by all.
        RATELIMIT_STORAGE_URI=os.environ.get("PORTAL_RATELIMIT_STORAGE_URI", "memory://"),
        RATELIMIT_KEY_PREFIX=os.environ.get("PORTAL_RATELIMIT_KEY_PREFIX", "portal"),
        # Redis down: each worker counts in memory until Redis answers again (checked with a growing pause),
        # and a Redis error in the middle of a request is logged, never a 500 on the sign-in page.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_HEADERS_ENABLED=False,
        RATELIMIT_ENABLED=True,
        LOGIN_LIMIT_PER_ACCOUNT=os.environ.get("PORTAL_LOGIN_LIMIT_ACCOUNT", "5 per 15 minutes"),
        LOGIN_LIMIT_PER_ADDRESS=os.environ.get("PORTAL_LOGIN_LIMIT_ADDRESS", "20 per 15 minutes"),
        PASSWORD_MIN_LENGTH=int(os.environ.get("PORTAL_PASSWORD_MIN_LENGTH", "8")),
        # argon2id, RFC 9106 "second recommended option": 64 MiB, 3 passes, 4 lanes.
        PASSWORD_HASH_PARAMS={"time_cost": 3, "memory_cost": 65536, "parallelism": 4},
        PROXY_FIX_HOPS=int(os.environ.get("PORTAL_PROXY_FIX", "0")),
        SEND_FILE_MAX_AGE_DEFAULT=timedelta(hours=12),
        # Outgoing mail (invitations); empty host: nothing is sent, links are shown to copy.
        SMTP_HOST=os.environ.get("PORTAL_SMTP_HOST", ""),
        SMTP_PORT=int(os.environ.get("PORTAL_SMTP_PORT", "587")),
        SMTP_SECURITY=os.environ.get("PORTAL_SMTP_SECURITY", "starttls"),  # starttls, ssl or none
        SMTP_USER=os.environ.get("PORTAL_SMTP_USER", ""),
        SMTP_PASSWORD=os.environ.get("PORTAL_SMTP_PASSWORD", ""),
        SMTP_TIMEOUT=float(os.environ.get("PORTAL_SMTP_TIMEOUT", "10")),
        MAIL_FROM=os.environ.get("PORTAL_MAIL_FROM", ""),
    )
    app.config.from_pyfile(str(instance / "config.py"), silent=True)
    app.config.update(overrides)
    if app.config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://")):
        # An unreachable Redis host must not hold a sign-in for the operating system's TCP timeout.
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 2, "socket_timeout": 2})
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(instance)
