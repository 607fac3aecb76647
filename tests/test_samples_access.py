"""Access tables of the samples area (checked by tests/test_access.py for every role)."""
import io

STAFF = ("admin", "manager", "sales", "service")
SALES_SIDE = ("admin", "manager", "sales")

GET_ACCESS = {
    "/samples/": STAFF,
    "/samples/board": STAFF,
    "/samples/new": SALES_SIDE,
    "/samples/{sample_id}": STAFF,
    "/samples/{sample_id}/edit": SALES_SIDE,
    "/samples/{sample_id}/photos/{sample_photo_id}": STAFF,
}
POST_ACCESS = {
    "/samples/new": SALES_SIDE,
    "/samples/{sample_id}/edit": SALES_SIDE,
    "/samples/{sample_id}/action/submit": SALES_SIDE,
    "/samples/{sample_id}/seen": SALES_SIDE,
    "/samples/{sample_id}/photos": SALES_SIDE,
}


def make_records(owner, ids):
    """A draft sample request of the customer with one photo."""
    from PIL import Image

    from portal import numbering, uploads
    from portal.extensions import db
    from portal.models import Attachment, SampleRequest

    sample = SampleRequest(number=numbering.next_number("sample", 2026), customer_id=ids["customer_id"],
                           title="样品", requirement="要求", quantity=2, retained_quantity=1)
    db.session.add(sample)
    db.session.flush()
    png = io.BytesIO()
    Image.new("RGB", (4, 4), "blue").save(png, "PNG")
    stored = uploads.store(png.getvalue(), "attachments", "png")
    photo = Attachment(entity_type="SampleRequest", entity_id=sample.id, stored_name=stored,
                       original_name="sample.png", content_type="image/png", size=len(png.getvalue()))
    db.session.add(photo)
    db.session.flush()
    return {"sample_id": sample.id, "sample_photo_id": photo.id}
