"""Demo data: the accounts of DESIGN.md and realistic customers with contacts and logs. Idempotent.

Generated customers are deterministic (customer i always gets the same name), so running the
command again only adds what is missing, and `--customers 10000` builds a benchmark archive.
"""
import random
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select

from . import numbering
from .admin.services import company_settings
from .auth.services import hash_password
from .customers.services import name_key
from .extensions import db
from .models import Contact, ContactLog, Customer, Role, User

DEMO_PASSWORD = "demo1234"
DEFAULT_CUSTOMERS = 40

STAFF = [
    ("admin", "系统管理员", Role.ADMIN, "zh", "0574-8688 0001"),
    ("manager", "王经理", Role.MANAGER, "zh", "138 5742 0002"),
    ("sales1", "李业务", Role.SALES, "zh", "138 5742 0011"),
    ("sales2", "张业务", Role.SALES, "zh", "138 5742 0012"),
    ("service", "陈售后", Role.SERVICE, "zh", "0574-8688 0020"),
]

# The two portal customers and two more named ones: (name, English name, country, owner, buyer)
NAMED = [
    ("北欧家居用品有限公司", "Nordic Home Supplies AB", "SE", "sales1", ("buyer1", "Erik Lindqvist", "en")),
    ("杭州恒泰五金制品有限公司", "Hangzhou Hengtai Hardware Co., Ltd.", "CN", "sales2", ("buyer2", "赵采购", "zh")),
    ("宁波海纳进出口有限公司", "Ningbo Haina Import & Export Co., Ltd.", "CN", "sales1", None),
    ("Pacific Tools Inc.", "Pacific Tools Inc.", "US", "sales2", None),
]

CITIES = [("宁波", "浙江"), ("杭州", "浙江"), ("温州", "浙江"), ("苏州", "江苏"), ("无锡", "江苏"), ("常州", "江苏"),
          ("东莞", "广东"), ("佛山", "广东"), ("中山", "广东"), ("深圳", "广东"), ("青岛", "山东"), ("济南", "山东"),
          ("厦门", "福建"), ("泉州", "福建"), ("天津", "天津"), ("上海", "上海"), ("合肥", "安徽"), ("武汉", "湖北"),
          ("长沙", "湖南"), ("成都", "四川"), ("重庆", "重庆"), ("郑州", "河南"), ("石家庄", "河北"), ("沈阳", "辽宁"),
          ("大连", "辽宁"), ("南昌", "江西"), ("昆明", "云南"), ("西安", "陕西"), ("南京", "江苏"), ("嘉兴", "浙江")]
BRANDS = ["恒达", "华盛", "永鑫", "金诚", "瑞丰", "鼎力", "宏图", "新世纪", "天成", "博远", "联创", "盛泰", "佳美", "海天",
          "万通", "东方", "和信", "汇金", "光明", "长城", "巨力", "同舟", "正泰", "锦华", "德润", "信达", "凯旋", "嘉禾",
          "立邦", "福瑞", "安泰", "兴隆", "众诚", "汇丰", "百川", "明辉", "远航", "中联", "润达", "美的"]
INDUSTRIES = [("五金制品", "hardware"), ("建材", "building materials"), ("家居用品", "home goods"),
              ("机电设备", "machinery"), ("进出口", "trading"), ("工具", "tools"), ("厨具", "kitchenware"),
              ("汽配", "auto parts"), ("电器", "appliances"), ("包装材料", "packaging"), ("卫浴", "sanitary ware"),
              ("灯具", "lighting")]
FOREIGN_A = ["Nordic", "Atlantic", "Alpine", "Baltic", "Pacific", "Iberia", "Rhine", "Danube", "Orient", "Sahara",
             "Andes", "Celtic", "Hanse", "Lakeside", "Summit", "Harbor", "Meridian", "Polar", "Coastal", "Royal"]
FOREIGN_B = ["Home", "Tools", "Hardware", "Living", "Supply", "Trading", "Kitchen", "Build", "Garden", "Craft",
             "Industrial", "Retail", "Import", "Fixtures", "Goods", "Market", "Works", "Depot", "Source", "Line"]
FOREIGN_C = [("GmbH", "DE", "Hamburg"), ("AB", "SE", "Gothenburg"), ("Ltd.", "GB", "Felixstowe"),
             ("Inc.", "US", "Los Angeles"), ("S.L.", "ES", "Valencia"), ("B.V.", "NL", "Rotterdam"),
             ("Pty Ltd", "AU", "Melbourne"), ("S.r.l.", "IT", "Genoa")]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
         "华", "平", "刚", "桂英", "文", "建国", "海燕", "晓东", "志强", "丽娟", "春梅", "国庆"]
FIRST = ["Anna", "Erik", "Lars", "Maria", "Thomas", "Sophie", "James", "Laura", "Daniel", "Emma", "Lucas", "Olivia",
         "Mark", "Julia", "Peter", "Sara", "David", "Nina", "Paul", "Eva"]
LAST = ["Schmidt", "Johansson", "Smith", "García", "de Vries", "Rossi", "Brown", "Müller", "Andersson", "Jones",
        "Martínez", "Bakker", "Bianchi", "Wilson", "Fischer", "Nilsson", "Taylor", "López", "Jansen", "Romano"]
TITLES = ["采购经理", "采购员", "总经理", "老板", "财务", "质量主管"]
TITLES_EN = ["Purchasing Manager", "Buyer", "Managing Director", "Owner", "Accountant", "Quality Manager"]
SUMMARIES = ["电话沟通新产品报价，客户对价格有异议，需要再核算成本。", "拜访客户工厂，了解明年采购计划。",
             "客户询问交期，答复下月中旬可以出货。", "微信发送新品目录和样品图片。", "展会上交换名片，客户对不锈钢系列感兴趣。",
             "催收上批货款尾款，客户承诺本周付清。", "客户反馈包装破损问题，已转售后跟进。", "邮件确认样品规格和数量。"]
SUMMARIES_EN = ["Call about the new price list; the buyer wants a better price for 1,000 pcs.",
                "Sent the catalogue and sample photos by e-mail.", "Met at the Canton Fair; interested in the stainless series.",
                "Discussed delivery for the next container; they need it before week 12.",
                "Reminder about the open balance; promised payment this week."]
NEXT_STEPS = ["寄送样品", "发送正式报价单", "确认合同条款", "跟进付款", "安排验厂", "回访客户反馈"]
NEXT_STEPS_EN = ["Send samples", "Send the formal quotation", "Confirm contract terms", "Follow up on payment"]
SOURCES = ["exhibition", "b2b", "referral", "cold_visit", "phone", "website"]
KINDS = ["visit", "call", "email", "wechat", "exhibition"]


def has_users() -> bool:
    return bool(db.session.scalar(select(func.count()).select_from(User)))


def _user(username, name, role, locale, password_hash, customer=None, phone=None) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, display_name=name, role=role.value, locale=locale, phone=phone,
                    password_hash=password_hash, customer_id=customer.id if customer else None,
                    email=f"{username}@huali-hardware.example" if role != Role.CUSTOMER else None)
        db.session.add(user)
        db.session.flush()
    return user


def _generated(i: int) -> dict:
    """The deterministic record of generated customer number `i`."""
    rng = random.Random(i)
    if i % 4 == 0:
        j = i // 4
        a, b = FOREIGN_A[j % 20], FOREIGN_B[(j // 20) % 20]
        suffix, country, port = FOREIGN_C[(j // 400) % 8]
        name = f"{a} {b} {suffix}" + (f" ({j // 3200 + 1})" if j >= 3200 else "")
        return {"name": name, "name_en": name, "country": country, "port": port, "city": port,
                "company_no": f"{country}{rng.randint(10_000_000, 99_999_999)}", "currency": rng.choice(["USD", "EUR"]),
                "phone": f"+{rng.randint(30, 49)} {rng.randint(10, 99)} {rng.randint(1_000_000, 9_999_999)}",
                "email": f"purchasing@{a.lower()}{b.lower()}.example", "industry": "import",
                "payment_terms": "30% T/T deposit, 70% against B/L copy"}
    city, province = CITIES[i % 30]
    brand = BRANDS[(i // 30) % 40]
    industry, industry_en = INDUSTRIES[(i // 1200) % 12]
    name = f"{city}{brand}{industry}有限公司" + (f"（{i // 14400 + 1}）" if i >= 14400 else "")
    return {"name": name, "name_en": f"{city} {brand} {industry_en} Co., Ltd.", "country": "CN", "city": city,
            "province": province, "address": f"{province}省{city}市经济开发区{rng.randint(1, 300)}号",
            "legal_rep": SURNAMES[rng.randrange(len(SURNAMES))] + rng.choice(GIVEN), "currency": "CNY",
            "phone": f"0{rng.randint(20, 999)}-{rng.randint(6000_0000, 8999_9999)}", "industry": industry,
            "email": f"sales{i}@{rng.choice(['163.com', 'qq.com', 'sina.com'])}",
            "payment_terms": rng.choice(["月结30天", "款到发货", "30%定金，发货前付清", "月结60天"])}


def _contacts(i: int, foreign: bool) -> list[dict]:
    rng = random.Random(10_000 + i)
    people = []
    for n in range(rng.choice([1, 1, 2, 2, 3])):
        if foreign:
            first, last = rng.choice(FIRST), rng.choice(LAST)
            people.append({"name": f"{first} {last}", "title": rng.choice(TITLES_EN), "is_primary": n == 0,
                           "email": f"{first.lower()}.{i}.{n}@example.com",
                           "phone": f"+{rng.randint(30, 49)} {rng.randint(100_000_000, 999_999_999)}"})
        else:
            people.append({"name": SURNAMES[rng.randrange(len(SURNAMES))] + rng.choice(GIVEN),
                           "title": rng.choice(TITLES), "is_primary": n == 0,
                           "mobile": f"1{rng.choice([35, 37, 38, 39, 58, 86])}{rng.randint(1000_0000, 9999_9999)}",
                           "wechat": f"wx_{i}_{n}"})
    return people


def _logs(i: int, foreign: bool, owner_id: int | None, today: date) -> list[dict]:
    rng = random.Random(20_000 + i)
    entries = []
    for _n in range(rng.choice([0, 1, 2, 3, 4])):
        days_ago = rng.randint(1, 120)
        at = datetime.combine(today - timedelta(days=days_ago), time(rng.randint(1, 9), rng.choice([0, 15, 30, 45])),
                              tzinfo=timezone.utc)
        entry = {"kind": rng.choice(KINDS), "at": at, "user_id": owner_id,
                 "summary": rng.choice(SUMMARIES_EN if foreign else SUMMARIES)}
        if rng.random() < 0.4:
            entry["next_step"] = rng.choice(NEXT_STEPS_EN if foreign else NEXT_STEPS)
            entry["next_date"] = today + timedelta(days=rng.randint(-6, 10))
            entry["done"] = entry["next_date"] < today - timedelta(days=3)
        entries.append(entry)
    return entries


def seed(customers: int = DEFAULT_CUSTOMERS, today: date | None = None, orders: int | None = None) -> dict:
    """Create what is missing of the demo data; return counts of what exists afterwards."""
    today = today or date.today()
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
    staff = {u: _user(u, n, r, loc, password_hash, phone=ph) for u, n, r, loc, ph in STAFF}
    for name, name_en, country, owner, buyer in NAMED:
        customer = db.session.scalar(select(Customer).where(Customer.name == name))
        if customer is None:
            customer = Customer(code=numbering.next_number("customer"), name=name, name_en=name_en,
                                name_key=name_key(name), country=country, owner_id=staff[owner].id, grade="A",
                                status="active", currency="CNY" if country == "CN" else "USD", source="exhibition")
            db.session.add(customer)
            db.session.flush()
            for contact in _contacts(len(name), country != "CN"):
                customer.contacts.append(Contact(**contact))
        if buyer:
            username, display, locale = buyer
            _user(username, display, Role.CUSTOMER, locale, password_hash, customer)
    _generate(customers, staff, today)
    db.session.flush()
    from . import demo_trade

    trade = demo_trade.seed(staff, today, demo_trade.DEFAULT_ORDERS if orders is None else orders)
    from . import demo_aftersales

    db.session.flush()
    aftersales = demo_aftersales.seed(staff, today)
    return {
        "users": db.session.scalar(select(func.count()).select_from(User)),
        "customers": db.session.scalar(select(func.count()).select_from(Customer)),
        "contacts": db.session.scalar(select(func.count()).select_from(Contact)),
        "contact log entries": db.session.scalar(select(func.count()).select_from(ContactLog)),
        **trade,
        **aftersales,
    }


def _generate(total: int, staff: dict, today: date, batch: int = 1000) -> None:
    """Add generated customers until the archive holds `total` (named ones included)."""
    existing = db.session.scalar(select(func.count()).select_from(Customer))
    keys = set(db.session.scalars(select(Customer.name_key)))
    owners = [staff["sales1"].id, staff["sales2"].id]
    i = 0
    while existing < total:
        chunk = []
        while existing + len(chunk) < total and len(chunk) < batch:
            i += 1
            record = _generated(i)
            key = name_key(record["name"])
            if key in keys:
                continue
            keys.add(key)
            rng = random.Random(30_000 + i)
            record.update(name_key=key, owner_id=owners[i % 2] if i % 17 else None,
                          grade=rng.choice("AABBBCCCCD"), status=rng.choice(["active"] * 5 + ["prospect"] * 3 + ["dormant", "blacklisted"]),
                          source=rng.choice(SOURCES))
            chunk.append((i, record))
        codes = numbering.reserve("customer", len(chunk))
        rows = []
        for value, (index, record) in zip(codes, chunk):
            customer = Customer(code=numbering.format_value("customer", value), **record)
            foreign = record["country"] != "CN"
            customer.contacts = [Contact(**c) for c in _contacts(index, foreign)]
            rows.append((customer, _logs(index, foreign, record["owner_id"], today)))
        db.session.add_all([c for c, _logs_ in rows])
        db.session.flush()
        db.session.add_all([ContactLog(customer_id=c.id, **entry) for c, entries in rows for entry in entries])
        db.session.flush()
        existing += len(chunk)
