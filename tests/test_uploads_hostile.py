"""Hostile uploads into every upload endpoint: oversized, wrong content behind an image name, decompression bombs,
zip and XML entity bombs in .xlsx. Each is refused (413 or 422) with a clear message in the user's language, and
nothing is stored: no row, no file under instance/uploads."""
from __future__ import annotations

import io
import struct
import zipfile
import zlib

import openpyxl
import pytest
from PIL import Image
from sqlalchemy import select

from portal.extensions import db
from tests.conftest import login
from tests.test_access import records  # noqa: F401 (a fixture)
from tests.test_customers_excel import zip_bomb
from tests.test_fuzz_forms import snapshot


def png(size=(4, 4), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, "PNG")
    return buffer.getvalue()


def png_header_bomb(width=100_000, height=100_000) -> bytes:
    """A PNG of a few hundred bytes that claims width x height pixels (one compressed row of zeros)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 1024, 9))
            + chunk(b"IEND", b""))


def png_pixel_bomb() -> bytes:
    """A real, valid 8000 x 8000 PNG (64 million pixels, ~8 KB on disk): above the 40 million pixel cap but below
    Pillow's own error threshold (twice the cap), where Pillow only warns."""
    return png((8000, 8000), mode="1")


def workbook(sheet_xml: bytes | None = None) -> bytes:
    """A real .xlsx (a header and one customer); with `sheet_xml`, its first sheet replaced by that XML."""
    wb = openpyxl.Workbook()
    wb.active.append(["公司名称"])
    wb.active.append(["宁波新阀门有限公司"])
    buffer = io.BytesIO()
    wb.save(buffer)
    if sheet_xml is None:
        return buffer.getvalue()
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = sheet_xml if item.filename == "xl/worksheets/sheet1.xml" else source.read(item.filename)
            target.writestr(item.filename, data)
    return out.getvalue()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">
<c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>"""

HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
EXE = (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
       + b"This program cannot be run in DOS mode")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# Messages (zh is the default language of the test users).
TOO_BIG = "文件超过"
TOO_BIG_REQUEST = "上传的文件超过"
NOT_IMAGE = "文件不是 PNG 或 JPEG 图片"
NOT_ALLOWED = "只能上传 PNG、JPEG 图片或 PDF 文件"
NOT_XLSX = "这不是 Excel .xlsx 文件"
UNREADABLE = "无法读取该工作簿"
EXPANDS = "文件解压后大小异常"


def _customer_code(app, ids) -> str:
    from portal.models import Customer

    with app.app_context():
        return db.session.scalar(select(Customer.code).where(Customer.id == ids["customer_id"]))


def _sample_in_progress(app, ids) -> dict:
    """Photos are added to a sample while it is made: move the access tables' draft sample on."""
    from portal.models import SampleRequest

    with app.app_context():
        db.session.get(SampleRequest, ids["sample_id"]).state = "in_progress"
        db.session.commit()
    return {}


# name -> (role, url template, file field, other fields (a function of the app and ids), kind of file accepted)
ENDPOINTS = {
    "customer import": ("sales", "/customers/import", "file", lambda app, ids: {}, "xlsx"),
    "sample photos": ("admin", "/samples/{sample_id}/photos", "file", _sample_in_progress, "attachment"),
    "order files": ("admin", "/orders/{order_id}/files", "file", lambda app, ids: {}, "attachment"),
    "inspection photo": ("admin", "/orders/{order_id}/inspections", "photo",
                         lambda app, ids: {"inspected_on": "2026-11-20", "inspector": "王工", "result": "pass"},
                         "attachment"),
    "new complaint (staff)": ("admin", "/aftersales/tickets/new", "file",
                              lambda app, ids: {"customer_code": _customer_code(app, ids), "channel": "phone",
                                                "category": "quality", "subject": "漏水", "description": "阀门漏水"},
                              "attachment"),
    "complaint files (staff)": ("admin", "/aftersales/tickets/{ticket_id}/files", "file", lambda app, ids: {},
                                "attachment"),
    "new complaint (portal)": ("buyer", "/my/tickets/new", "photos",
                               lambda app, ids: {"category": "quality", "subject": "漏水", "description": "阀门漏水",
                                                 "contact_name": "张经理"},
                               "attachment"),
    "complaint files (portal)": ("buyer", "/my/tickets/{portal_ticket_id}/files", "photos", lambda app, ids: {},
                                 "attachment"),
    "company logo": ("admin", "/admin/settings", "logo", lambda app, ids: {"name_zh": "某某阀门有限公司"}, "image"),
    "company seal": ("admin", "/admin/settings", "seal", lambda app, ids: {"name_zh": "某某阀门有限公司"}, "image"),
}

CASES = {
    # case -> (file name, bytes (a function of the app), kinds it applies to, expected status, message)
    "oversized": ("big.png", lambda app: b"\x89PNG" + b"\0" * app.config["UPLOAD_MAX_BYTES"], ("attachment",), 422,
                  TOO_BIG),
    "oversized logo": ("big.png", lambda app: b"\x89PNG" + b"\0" * (2 * 1024 * 1024), ("image",), 422, TOO_BIG),
    "oversized workbook": ("big.xlsx", lambda app: b"PK" + b"\0" * (5 * 1024 * 1024 + 10), ("xlsx",), 422, TOO_BIG),
    "request over MAX_CONTENT_LENGTH": ("huge.png", lambda app: b"\0" * (app.config["MAX_CONTENT_LENGTH"] + 1),
                                        ("attachment", "image", "xlsx"), 413, TOO_BIG_REQUEST),
    "HTML named .png": ("photo.png", lambda app: HTML, ("attachment", "image"), 422, None),
    "EXE named .jpg": ("photo.jpg", lambda app: EXE, ("attachment", "image"), 422, None),
    "PDF named .png": ("logo.png", lambda app: PDF, ("image",), 422, NOT_IMAGE),
    "PNG header bomb": ("bomb.png", lambda app: png_header_bomb(), ("attachment", "image"), 422, "too many pixels"),
    "PNG pixel bomb": ("bomb.png", lambda app: png_pixel_bomb(), ("attachment", "image"), 422, "too many pixels"),
    "PNG named .xlsx": ("customers.xlsx", lambda app: png(), ("xlsx",), 422, NOT_XLSX),
    "zip that is no workbook": ("customers.xlsx", lambda app: _plain_zip(), ("xlsx",), 422, NOT_XLSX),
    "zip bomb": ("customers.xlsx", lambda app: zip_bomb(), ("xlsx",), 422, EXPANDS),
    "XML entity bomb": ("customers.xlsx", lambda app: workbook(BILLION_LAUGHS), ("xlsx",), 422, UNREADABLE),
}
WRONG_TYPE = {"attachment": NOT_ALLOWED, "image": NOT_IMAGE}


def _message(app, message: str | None, kind: str) -> str:
    """The expected text in Chinese; "too many pixels" through the catalog, as it is newer than the catalogs."""
    if message == "too many pixels":
        from flask_babel import gettext

        with app.test_request_context():
            return gettext("The image has too many pixels (at most %(n)d million).", n=40)
    return message or WRONG_TYPE[kind]



def _plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    return buffer.getvalue()


def _setup(app, client, make_user, records, role, template, locale="zh"):  # noqa: F811
    ids = records()
    if role == "buyer":
        user = make_user("customer", customer=ids["customer_id"], locale=locale)
    else:
        user = make_user(role, locale=locale)
    login(client, user)
    return ids, template.format(**ids)


def _post(client, url, field, name, data, fields):
    return client.post(url, data={**fields, field: (io.BytesIO(data), name)}, content_type="multipart/form-data")


HOSTILE = [(endpoint, case) for endpoint, spec in ENDPOINTS.items() for case, c in CASES.items() if spec[4] in c[2]]


@pytest.mark.parametrize("endpoint, case", HOSTILE, ids=[f"{e}: {c}" for e, c in HOSTILE])
def test_hostile_upload_is_refused_clearly_and_nothing_is_stored(app, client, make_user, records,  # noqa: F811
                                                                 endpoint, case):
    role, template, field, fields, kind = ENDPOINTS[endpoint]
    name, content, _kinds, status, message = CASES[case]
    ids, url = _setup(app, client, make_user, records, role, template)
    data, other = content(app), fields(app, ids)
    before = snapshot(app)
    response = _post(client, url, field, name, data, other)
    html = response.get_data(as_text=True)
    assert response.status_code == status, (response.status_code, html[:500])
    assert _message(app, message, kind) in html
    assert snapshot(app) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_real_file_is_accepted_by_the_same_request(app, client, make_user, records, endpoint):  # noqa: F811
    """The refusals above are about the file: the same request with a real file is accepted and stored."""
    role, template, field, fields, kind = ENDPOINTS[endpoint]
    ids, url = _setup(app, client, make_user, records, role, template)
    before = snapshot(app)
    good = workbook() if kind == "xlsx" else png()
    response = _post(client, url, field, "good.xlsx" if kind == "xlsx" else "good.png", good, fields(app, ids))
    assert response.status_code in (200, 303), response.get_data(as_text=True)[:500]
    assert snapshot(app)["files"] != before["files"]


def test_refusals_speak_english_to_an_english_user(app, client, make_user, records):  # noqa: F811
    ids, url = _setup(app, client, make_user, records, "admin", "/orders/{order_id}/files", locale="en")
    response = _post(client, url, "file", "photo.png", HTML, {})
    assert response.status_code == 422
    assert "Only PNG or JPEG images and PDF files can be uploaded." in response.get_data(as_text=True)
    response = _post(client, url, "file", "bomb.png", png_pixel_bomb(), {})
    assert response.status_code == 422 and "pixels" in response.get_data(as_text=True)
    response = client.post(url, data={"file": (io.BytesIO(b"\0" * (app.config["MAX_CONTENT_LENGTH"] + 1)), "x.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 413 and "The upload is larger than the limit" in response.get_data(as_text=True)


def test_a_good_logo_is_not_kept_when_the_seal_is_refused(app, client, make_user, records):  # noqa: F811
    """Both files are checked before either is stored: a refused save leaves no orphan file behind."""
    _ids, url = _setup(app, client, make_user, records, "admin", "/admin/settings")
    before = snapshot(app)
    response = client.post(url, data={"name_zh": "某某阀门有限公司", "logo": (io.BytesIO(png()), "logo.png"),
                                      "seal": (io.BytesIO(HTML), "seal.png")}, content_type="multipart/form-data")
    assert response.status_code == 422 and NOT_IMAGE in response.get_data(as_text=True)
    assert snapshot(app) == before
