"""The factory sales portal: application factory."""
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as settings, database  # noqa: F401  (database registers engine events)


def create_app(config: dict | None = None) -> Flask:
    """Build the app; `config` (tests, embedding) wins over environment and instance/config.py."""
    import os

    app = Flask(
        __name__,
        instance_path=os.environ.get("PORTAL_INSTANCE_PATH") or None,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    settings.load(app, config)
    if app.config["PROXY_FIX_HOPS"]:
        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from . import errors, security
    from .auth.access import enforce_login

    app.url_map.converters["int"] = security.IdConverter
    app.session_interface = security.SessionInterface()
    _init_extensions(app)
    _register_blueprints(app)

    errors.register(app)
    app.before_request(security.refuse_nul)
    app.before_request(enforce_login)
    app.after_request(security.add_headers)
    from .documents.render import release_memory_after_rendering
    app.teardown_request(release_memory_after_rendering)

    from . import cli

    cli.register(app)
    _register_template_helpers(app)
    return app


def _init_extensions(app: Flask) -> None:
    from . import datacache, models  # noqa: F401  (tables known to Alembic and create_all; cache hooks)
    from .extensions import babel, csrf, db, limiter, login_manager, migrate
    from .i18n import select_locale

    db.init_app(app)
    from .database import end_request_session
    app.teardown_appcontext(end_request_session)  # runs before Flask-SQLAlchemy's (reverse order)
    migrate.init_app(app, db, directory=str(__import__("pathlib").Path(__file__).parent / "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    from .i18n import install as install_i18n
    install_i18n(app, babel)
    limiter.init_app(app)
    _limiter_log_to_app_log()
    login_manager.init_app(app)

    from .auth import services as auth_services

    login_manager.user_loader(auth_services.load_user)
    login_manager.unauthorized_handler(auth_services.unauthorized)
    login_manager.session_protection = None  # sessions are server-side rows; see auth.services


def _limiter_log_to_app_log() -> None:
    """Flask-Limiter logs "storage unreachable - falling back to in-memory storage" to a logger with only a
    NullHandler: show its warnings where the application's own go (stderr, gunicorn's error log)."""
    import logging

    from flask.logging import default_handler

    log = logging.getLogger("flask-limiter")
    if default_handler not in log.handlers:
        log.addHandler(default_handler)


def _register_blueprints(app: Flask) -> None:
    from .admin import bp as admin_bp
    from .aftersales import bp as aftersales_bp
    from .auth import bp as auth_bp
    from .customers import bp as customers_bp
    from .documents import bp as documents_bp
    from .home import bp as home_bp
    from .myportal import bp as myportal_bp
    from .orders import bp as orders_bp
    from .products import bp as products_bp
    from .quotes import bp as quotes_bp
    from .samples import bp as samples_bp
    from .satisfaction import bp as satisfaction_bp
    from .visits import bp as visits_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(customers_bp, url_prefix="/customers")
    app.register_blueprint(samples_bp, url_prefix="/samples")
    app.register_blueprint(quotes_bp, url_prefix="/quotes")
    app.register_blueprint(products_bp, url_prefix="/products")
    app.register_blueprint(orders_bp)  # /orders/... and /receivables/
    app.register_blueprint(documents_bp, url_prefix="/documents")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(myportal_bp, url_prefix="/my")
    app.register_blueprint(aftersales_bp, url_prefix="/aftersales")  # /aftersales/tickets/, service records
    app.register_blueprint(visits_bp, url_prefix="/aftersales/visits")
    app.register_blueprint(satisfaction_bp, url_prefix="/satisfaction")


def _register_template_helpers(app: Flask) -> None:
    from flask_babel import get_locale

    from .admin.services import brand
    from .i18n import HTML_LANG, date_filter, datetime_filter
    from .models import CompanySettings
    from .extensions import db

    @app.context_processor
    def inject():
        locale = str(get_locale() or "zh")
        return {
            "locale": locale,
            "html_lang": HTML_LANG.get(locale, "zh-CN"),
            "company": lambda: db.session.get(CompanySettings, 1),
            "brand": brand,
        }

    app.jinja_env.globals["navigation"] = _navigation

    from .forms import render_field
    from .web import url_before_id

    app.jinja_env.globals.update(render_field=render_field, url_before_id=url_before_id)

    from .audit import action_label, entity_label

    app.jinja_env.globals.update(action_label=action_label, entity_label=entity_label)
    app.jinja_env.filters["plain"] = _plain_number
    app.jinja_env.filters["datetime"] = datetime_filter
    app.jinja_env.filters["date"] = date_filter


def _navigation(template: str):
    """A navigation template rendered once per worker for each role, page (the link marked current), language
    and script root -- all it depends on -- instead of ~15 url_for and gettext calls on every page."""
    from flask import current_app, render_template, request
    from flask_babel import get_locale
    from flask_login import current_user
    from markupsafe import Markup

    rendered = current_app.extensions.setdefault("portal.navigation", {})
    key = (template, request.script_root, str(get_locale()), getattr(current_user, "role", None), request.endpoint)
    html = rendered.get(key)
    if html is None:
        html = Markup(render_template(template))
        if len(rendered) < 5000:  # roles x endpoints x languages stays far below; a bound all the same
            rendered[key] = html
    return html


def _plain_number(value) -> str:
    """A Decimal without trailing zeros or exponent: 12.500 -> 12.5, 1E+1 -> 10."""
    from decimal import Decimal

    if value is None:
        return ""
    number = Decimal(value).normalize()
    return f"{number:f}"
