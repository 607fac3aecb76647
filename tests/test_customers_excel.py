"""Excel export and import of the customer archive."""
import io
import zipfile
from datetime import datetime

import openpyxl
import pytest
from sqlalchemy import func, select

from portal.customers import excel
from portal.customers.services import name_key
from portal.extensions import db
from portal.models import AuditLog, Customer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _book(rows, headers=None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers or ["公司名称", "英文名称", "统一社会信用代码", "国家代码", "电话", "客户级别", "客户状态",
                          "客户来源", "信用额度", "币种", "业务员"])
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _upload(client, data: bytes, name="customers.xlsx"):
    return client.post("/customers/import", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _confirm(client, html: str):
    import re
    token = re.search(r'name="token" value="([0-9a-f]{32})"', html).group(1)
    return client.post("/customers/import/confirm", data={"token": token, "filename": "customers.xlsx"})


# Export

def test_export_contains_exactly_the_visible_filtered_rows(client, login_as, make_user, make_customer):
    sales = login_as("sales")
    a = make_customer(owner=sales, name="导出甲", grade="A")
    b = make_customer(owner=sales, name="导出乙", grade="B")
    hidden = make_customer(owner=make_user("sales"), name="别人的客户", grade="A")
    response = client.get("/customers/export.xlsx?grade=A")
    assert response.status_code == 200 and response.mimetype == XLSX
    ws = openpyxl.load_workbook(io.BytesIO(response.data)).active
    codes = [row[0] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert codes == [a.code]
    assert b.code not in codes and hidden.code not in codes
    assert ws.cell(1, 2).value == "公司名称"


def test_export_headers_follow_the_language_and_values_are_real_types(app, client, login_as, make_customer):
    from decimal import Decimal

    sales = login_as("sales", locale="en")
    make_customer(owner=sales, name="Typed Ltd", credit_limit=Decimal("12345.60"))
    ws = openpyxl.load_workbook(io.BytesIO(client.get("/customers/export.xlsx").data)).active
    headers = [c.value for c in ws[1]]
    assert headers[:2] == ["Code", "Company name"]
    row = {h: c for h, c in zip(headers, ws[2])}
    assert row["Credit limit"].value == 12345.6 and row["Credit limit"].data_type == "n"
    assert isinstance(row["Created"].value, datetime) and row["Created"].is_date


def test_export_never_contains_a_live_formula(client, login_as, make_customer):
    sales = login_as("sales")
    hostile = ['=HYPERLINK("http://evil.example","x")', "+1+2", "-2+3", "@SUM(A1)", "=cmd|' /C calc'!A0"]
    for i, text in enumerate(hostile):
        make_customer(owner=sales, name=f"客户{i}", notes=text, phone=text[:40])
    data = client.get("/customers/export.xlsx").data
    wb = openpyxl.load_workbook(io.BytesIO(data))
    cells = [c for row in wb.active.iter_rows(min_row=2) for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    notes = {c.value for c in cells if c.value in hostile}
    assert notes == set(hostile)  # kept as text, unchanged
    assert all(c.quotePrefix for c in cells if c.value in hostile)
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml


def test_export_is_audited(app, client, login_as):
    login_as("manager")
    client.get("/customers/export.xlsx?q=abc")
    with app.app_context():
        assert db.session.scalar(select(AuditLog).where(AuditLog.action == "export")).summary.endswith("q=abc")


# Import

def test_template_downloads_with_headers_and_allowed_values(client, login_as):
    login_as("sales")
    response = client.get("/customers/import/template.xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    assert wb.worksheets[0].cell(1, 1).value == "公司名称"
    assert len(wb.worksheets) == 2 and "prospect" in str([c.value for c in wb.worksheets[1]["B"]])


def test_clean_file_previews_then_imports_everything(app, client, login_as, make_user):
    manager = login_as("manager")
    seller = make_user("sales", username="zhangsan")
    data = _book([
        ["宁波导入一有限公司", "Import One", "91440300708461136T", "CN", 57412345678, "A", "active", "展会", 5000, "CNY", "zhangsan"],
        ["Import Two GmbH", "Import Two GmbH", None, "de", "+49 40 1234", "b", "潜在客户", "referral", None, "EUR", None],
    ])
    preview = _upload(client, data)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "全部 2 行检查通过" in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 0  # preview changes nothing
    assert _confirm(client, html).status_code == 303
    with app.app_context():
        rows = db.session.scalars(select(Customer).order_by(Customer.code)).all()
        assert [c.code for c in rows] == ["C00001", "C00002"]
        one, two = rows
        assert one.owner_id == seller.id and one.phone == "57412345678" and one.source == "exhibition"
        assert two.country == "DE" and two.grade == "B" and two.status == "prospect" and two.owner_id is None
        assert db.session.scalar(select(AuditLog).where(AuditLog.action == "import")).user_id == manager.id
        assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "create", AuditLog.entity_type == "Customer")) == 2


def test_one_bad_row_imports_nothing_and_every_problem_is_listed(app, client, login_as, make_customer):
    sales = login_as("sales")
    make_customer(owner=sales, name="已存在客户有限公司", name_key=name_key("已存在客户有限公司"))
    data = _book([
        ["好客户一有限公司", None, None, "CN", None, "A", "active", None, None, "CNY", None],
        [None, "No Name Ltd", None, "CN", None, "A", "active", None, None, "CNY", None],          # row 3: no name
        ["坏代码有限公司", None, "91440300708461136A", "CN", None, "A", "active", None, None, "CNY", None],  # 4
        ["好客户一有限公司", None, None, "CN", None, "A", "active", None, None, "CNY", None],          # 5: dup in file
        ["已存在客户有限公司 ", None, None, "CN", None, "A", "active", None, None, "CNY", None],      # 6: existing
        ["未知业务员有限公司", None, None, "CN", None, "A", "active", None, None, "CNY", "nobody"],     # 7
        ["坏级别有限公司", None, None, "CN", None, "Z", "active", None, None, "CNY", None],            # 8
    ])
    response = _upload(client, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for row, text in [(3, "请填写公司名称"), (4, "统一社会信用代码无效"), (5, "与第 2 行是同一家公司"),
                      (6, "客户档案中已有"), (7, "未知业务员"), (8, "客户级别")]:
        assert f'<td class="num">{row}</td>' in html and text in html, (row, text)
    assert 'name="token"' not in html  # no way to confirm a file with problems
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 1


def test_salesperson_cannot_import_for_someone_else(client, login_as, make_user):
    login_as("sales")
    make_user("sales", username="lisi")
    response = _upload(client, _book([["别人的客户有限公司", None, None, "CN", None, "A", "active", None, None, "CNY", "lisi"]]))
    assert response.status_code == 422 and "您只能导入自己的客户" in response.get_data(as_text=True)


def test_confirm_checks_the_file_again(app, client, login_as, make_customer):
    sales = login_as("sales")
    html = _upload(client, _book([["稍后重复有限公司", None, None, "CN", None, "A", "active", None, None, "CNY", None]])).get_data(as_text=True)
    # The archive changes between preview and confirmation: the confirmation re-checks and refuses.
    make_customer(owner=sales, name="稍后重复有限公司", name_key=name_key("稍后重复有限公司"))
    again = _confirm(client, html)
    assert again.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 1


def test_token_of_another_user_is_worthless(app, client, login_as, make_user):
    from tests.conftest import login

    login_as("sales")
    html = _upload(client, _book([["令牌客户有限公司", None, None, "CN", None, "A", "active", None, None, "CNY", None]])).get_data(as_text=True)
    thief = app.test_client()
    login(thief, make_user("sales"))
    response = _confirm(thief, html)
    assert response.status_code == 303 and response.headers["Location"].endswith("/customers/import")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 0


@pytest.mark.parametrize("data, message", [
    (b"just some text, not a workbook", "不是 Excel .xlsx 文件"),
    (b"PK\x03\x04 broken zip", "不是 Excel .xlsx 文件"),
    (b"", "不是 Excel .xlsx 文件"),
])
def test_files_that_are_not_xlsx_are_refused(client, login_as, data, message):
    login_as("sales")
    response = _upload(client, data)
    assert response.status_code == 422 and message in response.get_data(as_text=True)


def test_a_zip_that_is_not_a_workbook_is_refused(client, login_as):
    login_as("sales")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    response = _upload(client, buffer.getvalue())
    assert response.status_code == 422 and "不是 Excel .xlsx 文件" in response.get_data(as_text=True)


def zip_bomb() -> bytes:
    """A small .xlsx-shaped zip whose sheet expands to 120 MB (also used by tests/test_uploads_hostile.py)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (120 * 1024 * 1024))
    return buffer.getvalue()


def test_zip_bomb_is_refused(client, login_as):
    login_as("sales")
    response = _upload(client, zip_bomb())
    assert response.status_code == 422 and "解压后大小异常" in response.get_data(as_text=True)


def test_oversized_file_is_refused(client, login_as):
    login_as("sales")
    response = _upload(client, b"PK" + b"\0" * (excel.IMPORT_MAX_BYTES + 10))
    assert response.status_code == 422 and "超过 5 MB" in response.get_data(as_text=True)


def test_too_many_rows_is_refused(client, login_as, monkeypatch):
    login_as("sales")
    monkeypatch.setattr(excel, "IMPORT_MAX_ROWS", 5)
    rows = [[f"行数客户{i}有限公司", None, None, "CN", None, "C", "prospect", None, None, "CNY", None] for i in range(8)]
    response = _upload(client, _book(rows))
    assert response.status_code == 422 and "超过 5 行" in response.get_data(as_text=True)


def test_missing_header_is_refused(client, login_as):
    login_as("sales")
    response = _upload(client, _book([["x"]], headers=["something else"]))
    assert response.status_code == 422 and "列标题" in response.get_data(as_text=True)


def test_english_headers_and_labels_are_accepted(app, client, login_as):
    login_as("sales")
    data = _book([["English Headers Ltd", "GB", "B", "Dormant"]], headers=["Company name", "Country code", "Grade", "Status"])
    html = _upload(client, data).get_data(as_text=True)
    assert _confirm(client, html).status_code == 303
    with app.app_context():
        customer = db.session.scalar(select(Customer))
        assert customer.status == "dormant" and customer.grade == "B" and customer.country == "GB"


def test_exported_file_round_trips_into_an_empty_archive(app, client, login_as, make_customer):
    sales = login_as("sales")
    make_customer(owner=sales, name="往返客户有限公司", name_key=name_key("往返客户有限公司"), country="CN")
    exported = client.get("/customers/export.xlsx").data
    with app.app_context():
        db.session.execute(Customer.__table__.delete())
        db.session.commit()
    html = _upload(client, exported).get_data(as_text=True)
    assert "全部 1 行检查通过" in html
    assert _confirm(client, html).status_code == 303
