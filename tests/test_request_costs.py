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
