"""Outgoing e-mail through the site's SMTP server, when one is configured (PORTAL_SMTP_HOST).

Nothing here is required to run the portal: without SMTP settings `configured()` is False and callers
show the user what they would have sent (the invitation link to copy)."""
from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import current_app

log = logging.getLogger(__name__)


class MailError(RuntimeError):
    """The message could not be handed to the SMTP server."""


def configured() -> bool:
    return bool(current_app.config.get("SMTP_HOST")) and bool(current_app.config.get("MAIL_FROM"))


def send(to: str, subject: str, body: str, sender_name: str = "") -> None:
    """Send a plain-text message; MailError when the server refuses or cannot be reached."""
    config = current_app.config
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = formataddr((sender_name, config["MAIL_FROM"])) if sender_name else config["MAIL_FROM"]
    message["To"] = to
    message["Message-ID"] = make_msgid(domain=config["MAIL_FROM"].rpartition("@")[2] or None)
    message.set_content(body)
    security = config.get("SMTP_SECURITY", "starttls")
    try:
        if security == "ssl":
            server = smtplib.SMTP_SSL(config["SMTP_HOST"], config["SMTP_PORT"], timeout=config["SMTP_TIMEOUT"],
                                      context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=config["SMTP_TIMEOUT"])
        with server:
            if security == "starttls":
                server.starttls(context=ssl.create_default_context())
            if config.get("SMTP_USER"):
                server.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
            server.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        log.warning("mail to %s not sent: %s", to, error)
        raise MailError(str(error)) from error
