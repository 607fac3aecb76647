"""Portal accounts (managers invite buyers with one-time links, buyers set their password, staff disable
them), and what buyers do themselves: report a problem, confirm or question a solution, answer a survey.

An invitation stores only the sha256 of its token; the link works once, for INVITE_HOURS, until revoked.
Complaints and surveys go through the after-sales services (aftersales.services, visits.services): this
module only adds the portal's own rules (checked files first, customer steps, visits open to the buyer).
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .. import attachments, audit, uploads
from ..aftersales import services as aftersales
from ..auth import services as auth
from ..extensions import db
from ..i18n import local_today
from ..models import (Customer, FollowUpVisit, Order, PortalInvitation, Role, Ticket, TicketState, User,
                      VisitState)
from ..models.base import utcnow
from ..visits import services as visits
from ..workflow import TransitionError

INVITE_HOURS = 72
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MANAGERS = (Role.ADMIN.value, Role.MANAGER.value)


class PortalError(ValueError):
    """Refused input: {field: message}."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def locale_for(customer: Customer) -> str:
    """A new buyer of a foreign customer starts in English, of a Chinese one in Chinese."""
    return "zh" if (customer.country or "CN").upper() == "CN" else "en"


def invite(customer: Customer, data: dict, by: User) -> tuple[PortalInvitation, str]:
    """A new invitation and its token (shown once, never stored)."""
    if by.role not in MANAGERS:
        raise PortalError({"": _("You may not do this.")})
    errors = {}
    username = (data.get("username") or "").strip().lower()
    name = (data.get("display_name") or "").strip()
    email = (data.get("email") or "").strip() or None
    if not USERNAME.match(username):
        errors["username"] = _("3 to 64 characters: lower-case letters, digits, dot, dash or underscore.")
    elif db.session.scalar(select(User.id).where(func.lower(User.username) == username)) or db.session.scalar(
            select(PortalInvitation.id).where(PortalInvitation.username == username, PortalInvitation.used_at.is_(None),
                                              PortalInvitation.revoked_at.is_(None),
                                              PortalInvitation.expires_at > utcnow())):
        errors["username"] = _("This user name is taken.")
    if not name or len(name) > 100:
        errors["display_name"] = _("Enter the buyer's name (at most 100 characters).")
    if email and (len(email) > 254 or not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email)):
        errors["email"] = _("Enter a valid e-mail address.")
    if errors:
        raise PortalError(errors)
    token = secrets.token_urlsafe(32)
    invitation = PortalInvitation(customer_id=customer.id, username=username, display_name=name, email=email,
                                  locale=locale_for(customer), token_hash=_hash(token), created_by_id=by.id,
                                  expires_at=utcnow() + timedelta(hours=INVITE_HOURS))
    db.session.add(invitation)
    db.session.flush()
    audit.record("create", invitation, summary=f"{username} → {customer.code}", parent=customer, user=by)
    return invitation, token


def open_invitation(token: str) -> PortalInvitation | None:
    """The invitation of `token` if it can still be used (not used, not revoked, not expired)."""
    if not token or len(token) > 100:
        return None
    invitation = db.session.scalar(select(PortalInvitation).where(PortalInvitation.token_hash == _hash(token)))
    if invitation is None or invitation.state(utcnow()) != "open":
        return None
    return invitation


def accept(token: str, password: str, confirm: str) -> User:
    """Create the buyer's account from an open invitation; it cannot be used again."""
    invitation = open_invitation(token)
    if invitation is None:
        raise PortalError({"": _("This invitation link is not valid any more.")})
    if password != confirm:
        raise PortalError({"confirm": _("The two passwords differ.")})
    problems = auth.password_problems(password, invitation.username)
    if problems:
        raise PortalError({"password": " ".join(problems)})
    if db.session.scalar(select(User.id).where(func.lower(User.username) == invitation.username)):
        raise PortalError({"": _("This user name is taken.")})
    user = User(username=invitation.username, display_name=invitation.display_name, email=invitation.email,
                role=Role.CUSTOMER.value, customer_id=invitation.customer_id, locale=invitation.locale,
                password_hash=auth.hash_password(password), password_changed_at=utcnow())
    db.session.add(user)
    db.session.flush()
    invitation.used_at, invitation.user_id = utcnow(), user.id
    audit.record("create", user, summary=f"{user.username}: invitation accepted", user=user)
    return user


def revoke(invitation: PortalInvitation, by: User) -> None:
    if by.role not in MANAGERS:
        raise PortalError({"": _("You may not do this.")})
    if invitation.state(utcnow()) != "open":
        raise PortalError({"": _("This invitation is not open any more.")})
    invitation.revoked_at = utcnow()
    audit.record("update", invitation, summary=f"{invitation.username}: revoked", user=by,
                 changes={"revoked_at": [None, invitation.revoked_at.isoformat()]})


def set_active(user: User, active: bool, by: User) -> None:
    """Disable (ending every session at once) or enable a portal user."""
    if by.role not in MANAGERS or user.role != Role.CUSTOMER.value:
        raise PortalError({"": _("You may not do this.")})
    changes = audit.apply_changes(user, {"active": active})
    if not active:
        auth.end_sessions(user)
    if changes:
        audit.record("update", user, changes=changes, user=by)


def portal_users(customer: Customer) -> list[User]:
    return db.session.scalars(select(User).where(User.customer_id == customer.id, User.role == Role.CUSTOMER.value)
                              .order_by(User.username)).all()


def invitations(customer: Customer, limit: int = 20) -> list[PortalInvitation]:
    return db.session.scalars(select(PortalInvitation).where(PortalInvitation.customer_id == customer.id)
                              .order_by(PortalInvitation.created_at.desc()).limit(limit)).all()


def mail_invitation(invitation: PortalInvitation, link: str, by: User) -> bool:
    """E-mail the link to the buyer in their language when SMTP is configured and the invitation has an
    address; True when it was handed to the server (the link is shown to copy in any case)."""
    from flask_babel import force_locale

    from .. import mail
    from ..models import CompanySettings

    if not invitation.email or not mail.configured():
        return False
    settings = db.session.get(CompanySettings, 1)
    with force_locale(invitation.locale):
        company = settings.name(invitation.locale) if settings else ""
        subject = _("Your access to the customer portal of %(company)s", company=company)
        body = _("Hello %(name)s,\n\n%(company)s invites you to its customer portal, where you can follow your "
                 "orders, samples, documents and complaints.\n\nSet your password with this link (it works once, "
                 "for %(hours)d hours):\n%(link)s\n\nYour user name: %(username)s\n",
                 name=invitation.display_name, company=company, hours=INVITE_HOURS, link=link,
                 username=invitation.username)
    try:
        mail.send(invitation.email, str(subject), str(body), sender_name=company)
    except mail.MailError:
        return False
    audit.record("mail_sent", invitation, summary=invitation.email, user=by)
    return True


# Complaints, in the customer's words (the factory's internal steps assessed/assigned/proposed are one step
# for the customer).
TICKET_STATE_LABELS = {
    TicketState.RECEIVED.value: _l("Received"),
    TicketState.ASSESSED.value: _l("Being examined"),
    TicketState.ASSIGNED.value: _l("Being examined"),
    TicketState.PROPOSED.value: _l("Being examined"),
    TicketState.SENT.value: _l("Solution sent to you"),
    TicketState.CARRIED_OUT.value: _l("Waiting for your confirmation"),
    TicketState.CONFIRMED.value: _l("Solution confirmed"),
    TicketState.CLOSED.value: _l("Closed"),
}
OPEN_TICKET_STATES = tuple(s.value for s in TicketState if s is not TicketState.CLOSED)
# The solution is shown to the customer once it was sent.
SOLUTION_SENT = (TicketState.SENT.value, TicketState.CARRIED_OUT.value, TicketState.CONFIRMED.value,
                 TicketState.CLOSED.value)
MAX_FILES = 10


def checked_files(files) -> list:
    """The chosen files, every one checked (size, real type) before anything is stored; PortalError names the
    first bad file. Empty file inputs (nothing chosen) are skipped."""
    chosen = [f for f in files or () if f is not None and f.filename]
    if len(chosen) > MAX_FILES:
        raise PortalError({"photos": _("At most %(n)d files at once.", n=MAX_FILES)})
    for upload in chosen:
        try:
            uploads.check_image_or_pdf(upload)
        except uploads.UploadError as error:
            name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:100]
            raise PortalError({"photos": f"{name}: {error}"}) from None
        upload.stream.seek(0)
    return chosen


def ticket_lines(selected, quantities: dict) -> list[tuple[str, str | None]]:
    """(order_item_id, quantity|None) for the items the buyer ticked (aftersales.create_ticket checks that each
    is an item of the order and each quantity is more than 0 and at most what was ordered)."""
    return [(value, (quantities.get(value) or "").strip() or None)
            for value in dict.fromkeys(str(v) for v in selected or () if v)]


def report_problem(user: User, customer: Customer, data: dict, files=()) -> Ticket:
    """A complaint from the portal: files checked first (a bad one refuses everything), then the ticket
    (numbered, first step "received") and its customer-visible files."""
    chosen = checked_files(files)
    ticket = aftersales.create_ticket(
        user, customer, channel="portal", category=data.get("category"), subject=data.get("subject"),
        description=data.get("description"), order=data.get("order"), lines=data.get("lines") or (),
        contact_name=data.get("contact_name") or user.display_name)
    for upload in chosen:
        attachments.attach(ticket, upload, user, customer_visible=True)
    return ticket


def add_files(ticket: Ticket, user: User, files) -> list:
    """More photos for an open complaint; a customer-visible step says so, so the service desk sees it."""
    if ticket.state == TicketState.CLOSED.value:
        raise TransitionError(_("This complaint is closed; files cannot be added any more."))
    chosen = checked_files(files)
    if not chosen:
        raise PortalError({"photos": _("Choose at least one file.")})
    added = [attachments.attach(ticket, upload, user, customer_visible=True) for upload in chosen]
    aftersales.add_note(ticket, user, _("Files added: %(names)s", names=", ".join(a.original_name for a in added)),
                           customer_visible=True)
    return added


def may_respond(ticket: Ticket, name: str, version=None) -> None:
    """TransitionError unless the buyer may confirm / reopen now: the solution was carried out, and the page
    was not outdated (`version` the form was read at)."""
    if name not in ("confirm", "reopen") or ticket.state != TicketState.CARRIED_OUT.value:
        raise TransitionError(_("This can be done only after the solution was carried out."))
    if version not in (None, "") and str(version) != str(ticket.version):
        raise TransitionError(_("The complaint was changed meanwhile. Look at it again."))


def respond(ticket: Ticket, user: User, name: str, data: dict):
    """The buyer confirms the solution or says it did not solve the problem (with a reason) — only once it
    was carried out."""
    may_respond(ticket, name, data.get("version"))
    text = (data.get("reason") or data.get("note") or "").strip()
    if name == "reopen" and not text:
        raise PortalError({"reason": _("Tell us what is still wrong.")})
    return aftersales.take(ticket, user, name, {"reason": text, "note": text, "customer_visible": True})


def customer_steps(ticket: Ticket) -> list:
    return aftersales.customer_steps(ticket)


def may_answer(visit: FollowUpVisit) -> None:
    """TransitionError unless the visit waits for answers (due, and due today or earlier)."""
    if visit.state != VisitState.DUE.value:
        raise TransitionError(_("This survey has already been answered."))
    if visit.due_on > local_today():
        raise TransitionError(_("This survey is not open yet."))


def answer_survey(visit: FollowUpVisit, user: User, data: dict) -> None:
    """The buyer's own answers to a pending follow-up visit (channel portal)."""
    may_answer(visit)
    answers = {key: data.get(key) for key in ("answered_by", "quality_ok", "quality_note", "service_timely",
                                              "service_note", "sales_rating", "suggestions", "score")}
    answers["answered_by"] = (answers["answered_by"] or "").strip() or user.display_name
    visits.record_answers(visit, user, answers, channel="portal")
