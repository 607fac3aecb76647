"""Invitation e-mails through a real (local, in-process) SMTP server when SMTP is configured."""
import email
import re
import socket

import pytest
from aiosmtpd.controller import Controller

from portal.extensions import db
from tests.conftest import login


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def smtp(app, monkeypatch):
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    for key, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_SECURITY": "none",
                       "MAIL_FROM": "portal@factory.example"}.items():
        monkeypatch.setitem(app.config, key, value)
    yield inbox
    controller.stop()


def _invite(client, customer_id, email_address="erik@nordic.example"):
    return client.post(f"/customers/{customer_id}/portal/invite", data={
        "invite-display_name": "Erik Lindqvist", "invite-username": "erik.l", "invite-email": email_address})


def test_invitation_is_mailed_in_the_buyers_language_with_a_working_link(app, client, smtp, make_user,
                                                                          make_customer):
    from portal.models import AuditLog

    customer = make_customer(owner=make_user("sales"), name="Nordic Home AB", country="SE")
    login(client, make_user("manager"))
    assert _invite(client, customer.id).status_code == 303
    assert len(smtp.messages) == 1
    recipients, message = smtp.messages[0]
    assert recipients == ["erik@nordic.example"]
    body = message.get_payload(decode=True).decode()
    assert message["Subject"].startswith("Your access to the customer portal")  # English: a foreign customer
    assert "erik.l" in body and "72" in body
    token = re.search(r"/invite/([A-Za-z0-9_-]{20,})", body).group(1)
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert token in page  # the same link is shown to copy
    assert app.test_client().get(f"/invite/{token}").status_code == 200
    with app.app_context():
        assert db.session.query(AuditLog).filter_by(action="mail_sent", entity_type="PortalInvitation").count() == 1


def test_no_mail_without_an_address_or_without_smtp(app, client, monkeypatch, make_user, make_customer):
    customer = make_customer(owner=make_user("sales"), name="Nordic Home AB", country="SE")
    login(client, make_user("manager"))
    sent = []
    monkeypatch.setattr("portal.mail.send", lambda *args, **kwargs: sent.append(args))
    assert _invite(client, customer.id).status_code == 303  # SMTP_HOST is empty in tests
    assert sent == []


def test_unreachable_server_still_shows_the_link(app, client, monkeypatch, make_user, make_customer):
    customer = make_customer(owner=make_user("sales"), name="Nordic Home AB", country="SE")
    for key, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": _free_port(), "SMTP_SECURITY": "none",
                       "SMTP_TIMEOUT": 2, "MAIL_FROM": "portal@factory.example"}.items():
        monkeypatch.setitem(app.config, key, value)
    login(client, make_user("manager"))
    assert _invite(client, customer.id).status_code == 303
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert re.search(r"/invite/[A-Za-z0-9_-]{20,}", page)
    assert "erik@nordic.example" in page  # the warning names the address
