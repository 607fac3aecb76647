"""Records for the documents tests and benchmark: company settings, a customer, an order with items,
a shipment with packing data, payments. Call inside an app context; nothing commits here."""
import io
from datetime import date
from decimal import Decimal

from portal import numbering, uploads
from portal.extensions import db
from portal.models import CompanySettings, Customer, Order, OrderItem, Payment, Shipment, ShipmentLine


def seal_png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (240, 240), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, 232, 232), outline=(210, 20, 20, 255), width=10)
    draw.regular_polygon((120, 120, 40), 5, fill=(210, 20, 20, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def company(seal: bool = True) -> CompanySettings:
    settings = db.session.get(CompanySettings, 1) or CompanySettings(id=1)
    settings.name_zh = "宁波海曙精工阀门有限公司"
    settings.name_en = "Ningbo Haishu Precision Valve Co., Ltd."
    settings.address_zh = "浙江省宁波市海曙区望春工业园区科创路88号"
    settings.address_en = "No. 88 Kechuang Road, Wangchun Industrial Park, Haishu, Ningbo, China"
    settings.phone, settings.fax, settings.email = "0574-8888 6666", "0574-8888 6667", "sales@hs-valve.example"
    settings.website, settings.tax_id = "www.hs-valve.example", "91330203MA2GXXXX1K"
    settings.bank_name, settings.bank_account, settings.bank_swift = "中国银行宁波海曙支行", "3568 5822 0011", "BKCHCNBJ92A"
    settings.contract_terms = settings.contract_terms or ""
    settings.contract_terms_en = settings.contract_terms_en or ""
    settings.invoice_terms = settings.invoice_terms or ""
    if seal and not settings.seal_file:
        settings.seal_file = uploads.store(seal_png(), "company", "png")
    db.session.add(settings)
    return settings


def customer(owner_id=None, export: bool = False, **fields) -> Customer:
    values = dict(name="杭州西湖机电设备有限公司", credit_code="91330106MA27XXXX3B", legal_rep="张伟",
                  address="浙江省杭州市西湖区文三路 199 号", phone="0571-8765 4321", country="CN",
                  bank_name="中国工商银行杭州西湖支行", bank_account="1202 0211 0900 1234 567")
    if export:
        values.update(name="Hamburg Fluid Technik GmbH", name_en="Hamburg Fluid Technik GmbH", credit_code=None,
                      company_no="HRB 123456", legal_rep="Anna Schmidt", address="Speicherstadt 5, 20457 Hamburg",
                      country="DE", port="Hamburg", phone="+49 40 1234567", email="einkauf@hft.example")
    values.update(fields)
    result = Customer(code=numbering.next_number("customer"), owner_id=owner_id, **values)
    db.session.add(result)
    db.session.flush()
    return result


ITEMS = [("不锈钢球阀", "DN50 PN16 CF8M 法兰连接"), ("铸钢闸阀", "DN100 PN25 WCB"), ("黄铜截止阀", "DN25 螺纹"),
         ("电动蝶阀", "DN150 对夹式 AC220V"), ("止回阀", "DN80 升降式")]


def order(cust: Customer, lines: int = 3, currency: str = "CNY", state: str = "contract_signed", **fields) -> Order:
    result = Order(number=numbering.next_number("order", 2026), customer_id=cust.id, currency=currency, state=state,
                   contract_date=date(2026, 3, 2), promised_date=date(2026, 5, 15), incoterm="FOB",
                   port_of_loading="宁波" if currency == "CNY" else "Ningbo", port_of_destination="Hamburg",
                   customer_po="PO-7781", **fields)
    for n in range(lines):
        name, spec = ITEMS[n % len(ITEMS)]
        result.items.append(OrderItem(position=n + 1, description=f"{name} {n + 1}", specification=spec,
                                      quantity=Decimal(100 + n * 10), unit="台",
                                      unit_price=Decimal("123.45") + n))
    db.session.add(result)
    db.session.flush()
    return result


def shipment(ord: Order, **fields) -> Shipment:
    result = Shipment(order_id=ord.id, ship_date=date(2026, 5, 10), carrier="顺丰物流", tracking_no="SF1234567890",
                      container_no="TGHU 123456-7", receiver_name="李四", receiver_address="杭州市西湖区文三路 199 号 3 号仓库",
                      receiver_phone="138 0000 1234",
                      shipping_marks="HFT GmbH\nHAMBURG\nC/NO. 1-{n}\nMADE IN CHINA", **fields)
    total = 0
    for item in ord.items:
        cartons = int(item.quantity // 10)
        total += cartons
        result.lines.append(ShipmentLine(order_item_id=item.id, quantity=item.quantity, cartons=cartons,
                                         per_carton=Decimal(10), net_weight_kg=Decimal("8.5") * cartons,
                                         gross_weight_kg=Decimal("9.2") * cartons, volume_cbm=Decimal("0.045") * cartons))
    result.shipping_marks = result.shipping_marks.format(n=total)
    db.session.add(result)
    db.session.flush()
    return result


def payment(ord: Order, amount: str, on: date, kind: str = "deposit") -> Payment:
    result = Payment(order_id=ord.id, kind=kind, amount=Decimal(amount), received_on=on, method="T/T",
                     reference="TT-0001")
    db.session.add(result)
    db.session.flush()
    return result
