"""What the per-request caches (portal/i18n.py RequestDomain, the cached navigation) must not change: every
request still speaks its user's language and shows its user's navigation, whoever the worker served before."""
from flask_babel import force_locale, gettext, lazy_gettext

from tests.conftest import login


def test_each_request_speaks_its_users_language_whatever_came_before(app, make_user):
    chinese, english = make_user("sales", locale="zh"), make_user("sales", locale="en")
    zh_client, en_client = app.test_client(), app.test_client()
    login(zh_client, chinese)
    login(en_client, english)
    for _round in range(2):  # alternate, as one worker serves both users
        zh_page = zh_client.get("/orders/").get_data(as_text=True)
        en_page = en_client.get("/orders/").get_data(as_text=True)
        assert '<html lang="zh-CN">' in zh_page and "全部状态" in zh_page and "All statuses" not in zh_page
        assert '<html lang="en">' in en_page and "All statuses" in en_page and "全部状态" not in en_page


def test_force_locale_inside_a_request_switches_the_catalog_and_back(app):
    with app.test_request_context("/"):
        assert gettext("Orders") == "订单"  # no user: Chinese
        assert str(lazy_gettext("Orders")) == "订单"
        with force_locale("en"):
            assert gettext("Orders") == "Orders"
            assert app.jinja_env.from_string("{{ _('Orders') }}").render() == "Orders"
        assert gettext("Orders") == "订单"
        assert app.jinja_env.from_string("{{ _('Orders') }}").render() == "订单"


def test_navigation_follows_role_page_and_language_of_each_request(app, make_user):
    admin, sales = make_user("admin", locale="en"), make_user("sales", locale="zh")
    admin_client, sales_client = app.test_client(), app.test_client()
    login(admin_client, admin)
    login(sales_client, sales)
    for _round in range(2):
        admin_orders = admin_client.get("/orders/").get_data(as_text=True)
        sales_orders = sales_client.get("/orders/").get_data(as_text=True)
        sales_customers = sales_client.get("/customers/").get_data(as_text=True)
        assert '<a href="/admin/users" >Users</a>' in admin_orders
        assert '<a href="/orders/" aria-current="page">Orders</a>' in admin_orders
        assert "/admin/users" not in sales_orders and '<a href="/orders/" aria-current="page">订单</a>' in sales_orders
        assert '<a href="/customers/" aria-current="page">客户</a>' in sales_customers
        assert '<a href="/orders/" >订单</a>' in sales_customers


def test_date_filters_write_what_flask_babel_writes(app):
    """The numeric patterns are written out by hand; Babel stays the reference, in both languages, for naive
    (UTC) and aware values, across the local midnight and Shanghai's summer time of 1986-1991."""
    from datetime import date, datetime, timedelta, timezone

    from flask_babel import format_date, format_datetime

    values = [datetime(2026, 11, 27, 15, 59), datetime(2026, 11, 27, 16, 0, tzinfo=timezone.utc),
              datetime(1988, 7, 1, 15, 30, tzinfo=timezone.utc), datetime(1900, 1, 1, 0, 5),
              datetime(2199, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5))),
              datetime(2026, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=8)))]
    days = [date(2026, 11, 27), date(1900, 1, 1), date(2199, 12, 31)]
    env = app.jinja_env
    for locale in ("zh", "en"):
        with app.test_request_context("/"), force_locale(locale):
            for value in values:
                for fmt in ("yyyy-MM-dd HH:mm", "yyyy-MM-dd", "HH:mm", "yyyy-MM-dd HH:mm:ss"):
                    assert env.filters["datetime"](value, fmt) == format_datetime(value, fmt), (value, fmt)
                assert env.filters["datetime"](value) == format_datetime(value, "yyyy-MM-dd HH:mm")
                assert env.filters["date"](value) == format_date(value, "yyyy-MM-dd"), value
            for day in days:
                assert env.filters["date"](day) == format_date(day, "yyyy-MM-dd")
                assert env.filters["date"](day, "full") == format_date(day, "full")
            assert env.filters["date"](None) == "" and env.filters["datetime"](None) == ""
    with app.test_request_context("/"):
        assert env.filters["datetime"](datetime(2026, 11, 27, 16, 0)) == "2026-11-28 00:00"  # UTC+8
        assert env.filters["date"](datetime(2026, 11, 27, 16, 0)) == "2026-11-28"


def test_template_gettext_escapes_values_and_formats_like_jinjas_own(app):
    """The one-call `_`/`gettext` (portal/i18n.py install) keeps Jinja's newstyle behaviour: the translation is
    markup, the values are escaped, the string is always a format string, and the request's language counts."""
    render = lambda source, **context: app.jinja_env.from_string(source).render(**context)  # noqa: E731
    with app.test_request_context("/"):
        assert render("{{ _('Delivered %(date)s', date=d) }}", d="<b>1</b>") == "&lt;b&gt;1&lt;/b&gt; 签收"
        assert render("{{ gettext('Orders') }}|{{ _('Orders') }}") == "订单|订单"
        assert render("{{ _('100%% sure') }}") == "100% sure"  # not in the catalog: still formatted
        with force_locale("en"):
            assert render("{{ _('Delivered %(date)s', date='x & y') }}") == "Delivered x &amp; y"


def test_wtforms_messages_follow_the_language_of_each_request(app):
    """WTForms' catalogs are read once per worker (portal/forms.py) and still chosen per request."""
    from wtforms import SelectField, StringField
    from wtforms.validators import DataRequired
    from werkzeug.datastructures import MultiDict

    from portal.forms import PortalForm

    class Probe(PortalForm):
        class Meta:
            csrf = False

        name = StringField(validators=[DataRequired()])
        kind = SelectField(choices=[("a", "A")])

    def errors(locale):
        with app.test_request_context("/"), force_locale(locale):
            form = Probe(MultiDict({"kind": "b"}))
            assert not form.validate()
            return form.errors["name"][0], form.errors["kind"][0]

    for _round in range(2):
        assert errors("zh") == ("该字段是必填字段。", "不是有效的选择。")
        assert errors("en") == ("This field is required.", "Not a valid choice.")
    with app.app_context():  # outside a request Flask-WTF translates nothing, and neither do we
        form = Probe(MultiDict({"kind": "b"}))
        assert not form.validate() and form.errors["name"] == ["This field is required."]


def test_order_count_by_status_indexes(app):
    """PostgreSQL counts a salesperson's orders by status from orders (state) INCLUDE (customer_id) and customers
    (owner_id, id). SQLite keeps its plain status index: a (state, customer_id) index took the receivables query
    away from its partial index there (test_lists_at_scale checks that plan after ANALYZE too)."""
    from sqlalchemy import text

    from portal.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            definition = db.session.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'ix_orders_state'"))
            assert definition == "CREATE INDEX ix_orders_state ON orders (state)"
            assert db.session.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'ix_customers_owner_id'")) \
                == "CREATE INDEX ix_customers_owner_id ON customers (owner_id, id)"
            return
        definitions = {name: db.session.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"),
                                               {"n": name}) for name in ("ix_orders_state", "ix_customers_owner_id")}
        assert definitions["ix_orders_state"].endswith("(state) INCLUDE (customer_id)"), definitions
        assert definitions["ix_customers_owner_id"].endswith("(owner_id, id)"), definitions


# templates/_macros.html's `field` as a Jinja macro, before portal.forms.render_field replaced it (same markup).
FIELD_MACRO = """{% macro field(f, hint=None, class_="") %}
  {% set invalid = f.errors|length > 0 %}
  <div class="field {{ class_ }} {% if invalid %}has-error{% endif %} field-{{ f.type|lower }}">
    {% if f.type == "BooleanField" %}
      <label class="check">{{ f(**({"aria-invalid": "true", "aria-describedby": f.id ~ "-error"} if invalid else {})) }} {{ f.label.text }}</label>
    {% elif f.type == "RadioField" %}
      <fieldset><legend>{{ f.label.text }}</legend>
        {% for option in f %}<label class="check">{{ option() }} {{ option.label.text }}</label>{% endfor %}
      </fieldset>
    {% else %}
      {{ f.label() }}
      {{ f(**({"aria-invalid": "true", "aria-describedby": f.id ~ "-error"} if invalid else {})) }}
    {% endif %}
    {% if hint %}<small class="hint">{{ hint }}</small>{% endif %}
    {% if invalid %}<ul class="errors" id="{{ f.id }}-error">{% for e in f.errors %}<li>{{ e }}</li>{% endfor %}</ul>{% endif %}
  </div>
{% endmacro %}"""


def _all_forms():
    import importlib
    import pkgutil

    import portal
    from portal.forms import PortalForm

    for module in pkgutil.walk_packages(portal.__path__, "portal."):
        if module.name.endswith(".forms"):
            importlib.import_module(module.name)
    found, todo = [], [PortalForm]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        found.append(cls)
    return [cls for cls in found if cls is not PortalForm]


def test_field_renders_what_the_macro_rendered(app):
    """Every field of every form, blank and with errors (escaped), with and without hint and class."""
    from markupsafe import Markup

    from portal.forms import render_field

    macro = app.jinja_env.from_string(FIELD_MACRO + "{{ field(f, hint=hint, class_=class_) }}")
    python = app.jinja_env.from_string('{% from "_macros.html" import field %}{{ field(f, hint=hint, class_=class_) }}')
    forms = _all_forms()
    assert len(forms) > 20
    checked = 0
    for locale in ("zh", "en"):
        with app.test_request_context("/"), force_locale(locale):
            for cls in forms:
                for f in cls(formdata=None):
                    if getattr(f, "choices", "") is None:
                        f.choices = [("", "—"), ("1", "One & <two>")]
                    for errors, hint, class_ in [([], None, ""), (["Bad <b>&", lazy_gettext("Name")], "Hint & <i>", "full"),
                                                 ([], Markup("<em>ok</em>"), "choices")]:
                        f.errors = errors
                        values = {"f": f, "hint": hint, "class_": class_}
                        expected = macro.render(**values)
                        assert python.render(**values) == expected, (cls.__name__, f.name)
                        assert render_field(f, hint, class_) == expected
                        checked += 1
    assert checked > 500


def test_url_before_id_writes_what_url_for_writes(app):
    """List rows link with `{{ url_before_id(endpoint, key) }}{{ id }}` (one url_for a page): the same URLs as
    url_for, under a script root too; a route that does not end with its id is refused."""
    import pytest
    from flask import url_for

    from portal.web import url_before_id

    routes = [("customers.detail", "customer_id"), ("orders.detail", "order_id"), ("visits.detail", "visit_id"),
              ("aftersales.detail", "ticket_id")]
    for root in ("", "/portal"):
        with app.test_request_context("/", base_url=f"http://localhost{root}"):
            for endpoint, key in routes:
                for record_id in (1, 7, 40213):
                    assert url_before_id(endpoint, key) + str(record_id) == url_for(endpoint, **{key: record_id})
            with pytest.raises(ValueError):
                url_before_id("customers.contacts", "customer_id")
