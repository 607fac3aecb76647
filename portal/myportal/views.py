"""The customer portal: a buyer's own company's orders, samples and documents — nothing else.

Every record is loaded through `access.py` (scoped to the buyer's company at the query).
"""
from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import attachments
from ..auth.access import role_required
from ..extensions import db
from ..i18n import local_today
from ..models import IssuedDocument, Order, OrderEvent, Role, SampleRequest, SampleState, Shipment
from ..orders import services as orders
from ..samples import services as samples
from ..web import apply_errors, render, see_other
from ..workflow import TransitionError
from . import bp
from .access import (get_my_order_or_404, get_my_sample_or_404, my_customer, my_documents, my_orders,
                     my_samples)
from .forms import EvaluationForm

buyers = role_required(Role.CUSTOMER)
PER_PAGE = 20
OPEN = (orders.S.CLOSED.value, orders.S.CANCELLED.value)
# The steps a buyer follows (the internal ones before the contract are left out).
STEPS = [s for s in orders.STEPS if s not in (orders.S.INQUIRY.value, orders.S.QUOTED.value)]


@bp.get("/")
@buyers
def index():
    """Open orders with their step, samples on the way, recent documents, the salesperson to contact."""
    customer = my_customer()
    open_orders = db.session.scalars(my_orders().where(Order.state.not_in(OPEN))
                                     .order_by(Order.promised_date, Order.id).limit(20)).all()
    on_the_way = db.session.scalars(my_samples().where(SampleRequest.state == SampleState.SENT.value)
                                    .order_by(SampleRequest.sent_at.desc()).limit(20)).all()
    to_evaluate = db.session.scalars(my_samples().where(SampleRequest.state.in_(samples.EVALUABLE))
                                     .limit(20)).all()
    documents = db.session.scalars(my_documents().limit(5)).all()
    return render("myportal/index.html", customer=customer, open_orders=open_orders, on_the_way=on_the_way,
                  to_evaluate=to_evaluate, documents=documents)


@bp.get("/orders/")
@buyers
def order_list():
    page = db.paginate(my_orders().order_by(Order.contract_date.desc(), Order.id.desc()), per_page=PER_PAGE,
                       error_out=False)
    return render("myportal/orders.html", page=page, open_states=OPEN)


@bp.get("/orders/<int:order_id>")
@buyers
def order(order_id: int):
    """The buyer's view of one order: the customer-visible timeline, items and what has shipped, shipments
    with B/L and tracking numbers, money due and received, documents and shared files."""
    order = get_my_order_or_404(order_id)
    db.session.scalars(select(Order).where(Order.id == order.id).options(
        selectinload(Order.items), selectinload(Order.payments),
        selectinload(Order.shipments).selectinload(Shipment.lines))).all()
    events = db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id,
                                                         OrderEvent.customer_visible.is_(True))
                                .order_by(OrderEvent.at.desc(), OrderEvent.id.desc())).all()
    documents = db.session.scalars(my_documents().where(IssuedDocument.order_id == order.id)).all()
    return render("myportal/order.html", order=order, events=events, documents=documents, steps=STEPS,
                  shipped=orders.shipped_quantities(order), dues=orders.dues(order),
                  open_amount=orders.open_amount(order), files=attachments.of(order, customer_visible_only=True),
                  today=local_today())


@bp.get("/orders/<int:order_id>/files/<int:attachment_id>")
@buyers
def order_file(order_id: int, attachment_id: int):
    """A file the factory shared with the customer (marked customer-visible) — nothing else."""
    order = get_my_order_or_404(order_id)
    found = attachments.get_for(order, attachment_id)
    if found is None or not found.customer_visible:
        abort(404)
    return attachments.send(found)


@bp.get("/samples/")
@buyers
def sample_list():
    page = db.paginate(my_samples().order_by(SampleRequest.created_at.desc(), SampleRequest.id.desc()),
                       per_page=PER_PAGE, error_out=False)
    return render("myportal/samples.html", page=page, form=EvaluationForm(formdata=None), forms={},
                  evaluable=samples.EVALUABLE)


@bp.post("/samples/<int:sample_id>/evaluate")
@buyers
def evaluate(sample_id: int):
    """The buyer's evaluation of a sample they received; it reaches the salesperson's home page."""
    sample = get_my_sample_or_404(sample_id)
    form = EvaluationForm()
    if form.validate_on_submit():
        try:
            samples.perform(sample, "evaluate", {"evaluation": form.evaluation.data,
                                                 "evaluation_comment": form.evaluation_comment.data},
                            current_user)
            db.session.commit()
        except TransitionError:
            db.session.rollback()
            flash(_("This sample cannot be evaluated now."), "error")
            return see_other(url_for("myportal.sample_list"))
        except samples.SampleError as error:
            db.session.rollback()
            apply_errors(form, error.errors)
        else:
            flash(_("Thank you: your evaluation of %(number)s has been sent to %(name)s.", number=sample.number,
                    name=sample.customer.owner.display_name if sample.customer.owner else _("the factory")),
                  "success")
            return see_other(url_for("myportal.sample_list"))
    page = db.paginate(my_samples().order_by(SampleRequest.created_at.desc(), SampleRequest.id.desc()),
                       per_page=PER_PAGE, error_out=False)
    return render("myportal/samples.html", status=422, page=page, form=EvaluationForm(formdata=None),
                  forms={sample.id: form}, evaluable=samples.EVALUABLE)


@bp.get("/documents/")
@buyers
def document_list():
    page = db.paginate(my_documents(), per_page=PER_PAGE, error_out=False)
    return render("myportal/documents.html", page=page)
