"""Access tables of the documents area (checked by tests/test_access.py for every role)."""
STAFF = ("admin", "manager", "sales", "service")
ISSUERS = ("admin", "manager", "sales")
PRINTERS = ("admin", "manager")

GET_ACCESS = {
    "/documents/orders/{order_id}/contract.pdf": STAFF,
    "/documents/orders/{order_id}/proforma-invoice.pdf": STAFF,
    "/documents/shipments/{shipment_id}/delivery-note.pdf": STAFF,
    "/documents/shipments/{shipment_id}/packing-list.pdf": STAFF,
    "/documents/customers/{customer_id}/statement.pdf": STAFF,
    "/documents/issued/{document_id}.pdf": STAFF,  # portal users: their own company's (tested in test_documents)
    "/documents/orders/{order_id}/contract/issue": ISSUERS,
    "/documents/orders/{order_id}/proforma-invoice/issue": ISSUERS,
    "/documents/shipments/{shipment_id}/delivery-note/issue": ISSUERS,
    "/documents/shipments/{shipment_id}/packing-list/issue": ISSUERS,
    "/documents/customers/{customer_id}/statement/issue": ISSUERS,
    "/documents/print": PRINTERS,
    "/documents/print/jobs/{job_id}": PRINTERS,
    "/documents/print/jobs/{job_id}.pdf": PRINTERS,
    "/documents/satisfaction/2026-10.pdf": ("admin", "manager", "service"),
}
POST_ACCESS = {
    "/documents/orders/{order_id}/contract/issue": ISSUERS,
    "/documents/orders/{order_id}/proforma-invoice/issue": ISSUERS,
    "/documents/shipments/{shipment_id}/delivery-note/issue": ISSUERS,
    "/documents/shipments/{shipment_id}/packing-list/issue": ISSUERS,
    "/documents/customers/{customer_id}/statement/issue": ISSUERS,
    "/documents/print": PRINTERS,
    "/documents/print/jobs/{job_id}/cancel": PRINTERS,
}
SPECIAL = {"/admin/settings/seal"}  # needs an uploaded seal; tested in test_documents


def make_records(owner, ids):
    """An order of the customer with a shipment, an issued delivery note and a finished print job."""
    from pathlib import Path

    import hashlib
    import io

    from flask import current_app
    from pypdf import PdfWriter

    from portal.extensions import db
    from portal.models import Customer, IssuedDocument, PrintJob
    from tests import documents_data as data

    customer = db.session.get(Customer, ids["customer_id"])
    order = data.order(customer, lines=1)
    shipment = data.shipment(order)
    folder = Path(current_app.instance_path) / "documents"
    folder.mkdir(parents=True, exist_ok=True)
    # a real one-page PDF, stored as issued (its sha256 checked on download, joined by the print centre)
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    stored = io.BytesIO()
    writer.write(stored)
    pdf = stored.getvalue()
    (folder / "access-test.pdf").write_bytes(pdf)
    (folder / "batches").mkdir(exist_ok=True)
    (folder / "batches" / "access-test.pdf").write_bytes(pdf)
    document = IssuedDocument(kind="delivery_note", number="SH2026-9999", subject_id=shipment.id,
                              customer_id=customer.id, order_id=order.id, shipment_id=shipment.id,
                              file_name="access-test.pdf", sha256=hashlib.sha256(pdf).hexdigest(), size=len(pdf))
    job = PrintJob(kind="delivery_note", params={"ids": [shipment.id]}, state="done", total=1, done=1,
                   result_file="access-test.pdf")
    db.session.add_all([document, job])
    db.session.flush()
    return {"order_id": order.id, "shipment_id": shipment.id, "document_id": document.id, "job_id": job.id}
