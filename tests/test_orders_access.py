"""Access tables of the orders area (checked by tests/test_access.py for every role)."""
import io
from decimal import Decimal

STAFF = ("admin", "manager", "sales", "service")
SALES_SIDE = ("admin", "manager", "sales")
MANAGERS = ("admin", "manager")

GET_ACCESS = {
    "/orders/": STAFF,
    "/orders/new": SALES_SIDE,
    "/orders/{order_id}": STAFF,
    "/orders/{order_id}/edit": SALES_SIDE,
    "/orders/{order_id}/files/{order_file_id}": STAFF,
    "/receivables/": STAFF,
    "/targets/": SALES_SIDE,
}
POST_ACCESS = {
    "/orders/new": SALES_SIDE,
    "/orders/{order_id}/edit": SALES_SIDE,
    "/orders/{order_id}/action/close": SALES_SIDE,
    "/orders/{order_id}/items": SALES_SIDE,
    "/orders/{order_id}/items/{order_item_id}": SALES_SIDE,
    "/orders/{order_id}/items/{order_item_id}/delete": SALES_SIDE,
    "/orders/{order_id}/progress": SALES_SIDE,
    "/orders/{order_id}/plan": SALES_SIDE,
    "/orders/{order_id}/plan/submit": SALES_SIDE,
    "/orders/{order_id}/plan/approve": SALES_SIDE,
    "/orders/{order_id}/inspections": SALES_SIDE,
    "/orders/{order_id}/shipments": SALES_SIDE,
    "/orders/{order_id}/shipments/{shipment_id}/delivered": SALES_SIDE,
    "/orders/{order_id}/payments": SALES_SIDE,
    "/orders/{order_id}/dunning": SALES_SIDE,
    "/orders/{order_id}/changes": SALES_SIDE,
    "/orders/{order_id}/changes/{change_id}/approve": MANAGERS,
    "/orders/{order_id}/files": SALES_SIDE,
    "/targets/": MANAGERS,
}


def make_records(owner, ids):
    """A shipped order of the customer with an item, a shipment, a change request and a file."""
    from PIL import Image

    from portal import numbering, uploads
    from portal.extensions import db
    from portal.models import Attachment, ChangeRequest, Order, OrderItem, Shipment, ShipmentLine

    order = Order(number=numbering.next_number("order", 2026), customer_id=ids["customer_id"], state="shipped",
                  currency="CNY", contract_no=numbering.next_number("contract", 2026))
    item = OrderItem(position=1, description="不锈钢阀门", quantity=Decimal("10"), unit="pcs",
                     unit_price=Decimal("12.5"))
    order.items.append(item)
    db.session.add(order)
    db.session.flush()
    shipment = Shipment(lines=[ShipmentLine(order_item_id=item.id, quantity=Decimal("4"))])
    order.shipments.append(shipment)
    change = ChangeRequest(what="交期", why="客户要求", requested_by_id=owner)
    order.change_requests.append(change)
    png = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(png, "PNG")
    stored = uploads.store(png.getvalue(), "attachments", "png")
    attachment = Attachment(entity_type="Order", entity_id=order.id, stored_name=stored, original_name="scan.png",
                            content_type="image/png", size=len(png.getvalue()))
    db.session.add(attachment)
    db.session.flush()
    return {"order_id": order.id, "order_item_id": item.id, "shipment_id": shipment.id, "change_id": change.id,
            "order_file_id": attachment.id}
