"""Demo data: the accounts of DESIGN.md and a few realistic customers. Idempotent."""
from sqlalchemy import func, select

from . import numbering
from .admin.services import company_settings
from .auth.services import hash_password
from .extensions import db
from .models import Customer, Role, User

DEMO_PASSWORD = "demo1234"

STAFF = [
    ("admin", "系统管理员", Role.ADMIN, "zh"),
    ("manager", "王经理", Role.MANAGER, "zh"),
    ("sales1", "李业务", Role.SALES, "zh"),
    ("sales2", "张业务", Role.SALES, "zh"),
    ("service", "陈售后", Role.SERVICE, "zh"),
]

# (name, English name, country, owner, buyer account)
CUSTOMERS = [
    ("北欧家居用品有限公司", "Nordic Home Supplies AB", "SE", "sales1", ("buyer1", "Erik Lindqvist", "en")),
    ("杭州恒泰五金制品有限公司", "Hangzhou Hengtai Hardware Co., Ltd.", "CN", "sales2", ("buyer2", "赵采购", "zh")),
    ("宁波海纳进出口有限公司", "Ningbo Haina Import & Export Co., Ltd.", "CN", "sales1", None),
    ("Pacific Tools Inc.", "Pacific Tools Inc.", "US", "sales2", None),
]


def has_users() -> bool:
    return bool(db.session.scalar(select(func.count()).select_from(User)))


def _user(username, name, role, locale, password_hash, customer=None) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, display_name=name, role=role.value, locale=locale,
                    password_hash=password_hash, customer_id=customer.id if customer else None)
        db.session.add(user)
        db.session.flush()
    return user


def seed() -> dict:
    """Create what is missing of the demo data; return counts of what exists afterwards."""
    password_hash = hash_password(DEMO_PASSWORD)
    settings = company_settings()
    if not settings.name_zh:
        settings.name_zh = "浙江华利五金制造有限公司"
        settings.name_en = "Zhejiang Huali Hardware Manufacturing Co., Ltd."
        settings.address_zh = "浙江省宁波市北仑区新碶街道工业园路88号"
        settings.address_en = "No. 88 Industrial Park Road, Beilun District, Ningbo, Zhejiang, China"
        settings.phone = "+86 574 8688 0000"
        settings.email = "sales@huali-hardware.example"
        settings.tax_id = "91330206MA2AFXXX0K"
        settings.bank_name = "中国银行宁波北仑支行 Bank of China, Ningbo Beilun Sub-branch"
        settings.bank_account = "3584 5812 0000 1234"
        settings.bank_swift = "BKCHCNBJ92A"
    staff = {u: _user(u, n, r, loc, password_hash) for u, n, r, loc in STAFF}
    for name, name_en, country, owner, buyer in CUSTOMERS:
        customer = db.session.scalar(select(Customer).where(Customer.name == name))
        if customer is None:
            customer = Customer(code=numbering.next_number("customer"), name=name, name_en=name_en,
                                country=country, owner_id=staff[owner].id)
            db.session.add(customer)
            db.session.flush()
        if buyer:
            username, display, locale = buyer
            _user(username, display, Role.CUSTOMER, locale, password_hash, customer)
    db.session.flush()
    return {
        "users": db.session.scalar(select(func.count()).select_from(User)),
        "customers": db.session.scalar(select(func.count()).select_from(Customer)),
    }
