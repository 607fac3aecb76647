"""Access tables of the after-sales area: complaints and service records (checked by tests/test_access.py)."""
import io
from decimal import Decimal

STAFF = ("admin", "manager", "sales", "service")
SERVICE_SIDE = ("admin", "manager", "service")

GET_ACCESS = {
    "/aftersales/tickets/": STAFF,
    "/aftersales/tickets/new": STAFF,
    "/aftersales/tickets/{ticket_id}": STAFF,
    "/aftersales/tickets/{ticket_id}/files/{ticket_file_id}": STAFF,
    "/aftersales/service-records/": STAFF,
    "/aftersales/service-records/new": SERVICE_SIDE,
    "/aftersales/service-records/{service_record_id}/edit": SERVICE_SIDE,
}
POST_ACCESS = {
    "/aftersales/tickets/new": STAFF,
    # salespeople may post, and are refused by the state table (409): they take no steps
    "/aftersales/tickets/{ticket_id}/action/assess": STAFF,
    "/aftersales/tickets/{ticket_id}/notes": STAFF,
    "/aftersales/tickets/{ticket_id}/files": STAFF,
    "/aftersales/service-records/new": SERVICE_SIDE,
    "/aftersales/service-records/{service_record_id}/edit": SERVICE_SIDE,
}


def make_records(owner, ids):
    """A received ticket about an order of the customer, with a file and a service record."""
    from datetime import date

    from PIL import Image

    from portal import numbering, uploads
    from portal.extensions import db
    from portal.models import Attachment, Order, OrderItem, ServiceRecord, Ticket, TicketLine

    order = Order(number=numbering.next_number("order", 2026), customer_id=ids["customer_id"], state="shipped",
                  currency="CNY")
    item = OrderItem(position=1, description="不锈钢阀门", quantity=Decimal("10"), unit="pcs",
                     unit_price=Decimal("12.5"))
    order.items.append(item)
    db.session.add(order)
    db.session.flush()
    ticket = Ticket(number=numbering.next_number("ticket", 2026), customer_id=ids["customer_id"], order_id=order.id,
                    channel="phone", category="quality", subject="阀门漏水", description="客户来电：阀门漏水",
                    lines=[TicketLine(order_item_id=item.id, quantity=Decimal("2"))])
    db.session.add(ticket)
    db.session.flush()
    png = io.BytesIO()
    Image.new("RGB", (4, 4), "blue").save(png, "PNG")
    stored = uploads.store(png.getvalue(), "attachments", "png")
    attachment = Attachment(entity_type="Ticket", entity_id=ticket.id, stored_name=stored, original_name="leak.png",
                            content_type="image/png", size=len(png.getvalue()))
    record = ServiceRecord(customer_id=ids["customer_id"], ticket_id=ticket.id, order_id=order.id,
                           served_on=date(2026, 11, 20), fault="漏水", handling="更换密封圈", hours=Decimal("1.5"))
    db.session.add_all([attachment, record])
    db.session.flush()
    return {"ticket_id": ticket.id, "ticket_file_id": attachment.id, "service_record_id": record.id,
            "ticket_order_id": order.id}
