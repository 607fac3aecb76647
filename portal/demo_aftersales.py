"""Demo after-sales data: complaints in every state with their steps, service records, a year of follow-up
visits with varied answers, and monthly satisfaction forms (submitted ones and a draft). Idempotent: it
only runs when there are no tickets yet. Deterministic (seeded)."""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from . import numbering
from .extensions import db
from .models import (Customer, FollowUpVisit, Order, SatisfactionMonth, ServiceRecord, Shipment, Ticket, TicketEvent,
                     TicketLine, VisitReason, VisitState)

SHANGHAI = ZoneInfo("Asia/Shanghai")

# (category, subject, description, cause, solution, resolution)
COMPLAINTS = [
    ("quality", "球阀关闭不严，有渗漏", "客户反映第二批 DN25 球阀中约 3% 关闭后仍有渗漏，已停止安装。",
     "阀座密封圈批次硬度偏高，装配扭矩不足。", "更换问题批次密封圈，补发 60 只合格品，退回不良品。", "replacement"),
    ("packaging", "外箱破损，产品划伤", "到货 12 箱中 3 箱外箱压塌，部分水龙头表面划伤。",
     "外箱五层瓦楞纸强度不足，堆码超高。", "改用七层瓦楞外箱并加护角；按破损数量赔付。", "claim"),
    ("delivery", "交货延期一周", "合同交期 10 月 15 日，实际 10 月 22 日发货，客户生产线等料。",
     "电镀外协厂排产延误。", "说明原因并书面致歉，下批订单优先排产。", "explanation"),
    ("quality", "Hinges squeak after installation", "Buyer reports that 5% of the hinges in the last container "
     "squeak after a week of use.", "Grease quantity below specification on one line.",
     "Send 500 replacement hinges by air; re-grease procedure checked on every line.", "replacement"),
    ("service", "业务员回复不及时", "客户三次邮件询问发货单据，两天未回复。",
     "业务员出差，未设置代理人。", "指定售后专人对接单据，出差期间自动转交。", "explanation"),
    ("quality", "Wrong finish on drawer slides", "Brushed nickel ordered, satin chrome received on 2 cartons.",
     "Packing mix-up at the warehouse.", "Return of the 2 cartons at our cost and re-shipment.", "return"),
    ("other", "发票抬头错误", "增值税发票抬头少一个字，客户无法入账。", "开票信息录入错误。", "作废重开。", "other"),
    ("quality", "管件螺纹不通规", "抽检 50 件中 4 件螺纹通规不过。", "丝锥磨损未及时更换。",
     "全检库存，更换丝锥并加首件检验。", "repair"),
]
ANSWERERS = ["采购 王小姐", "仓库 李主管", "Mr. Johansson", "采购经理 刘先生", "Ms. Weber", "老板 陈总"]
SUGGESTIONS = ["", "", "", "希望提供电子版检验报告。", "Please send shipping documents earlier.", "外箱标签希望加条码。",
               "希望交期再缩短一周。", "", "Would like a catalogue of new products.", ""]
NOTES_BAD = ["有两件表面有划痕。", "Some cartons arrived wet.", "螺纹有毛刺。", "颜色与样品略有差异。"]
NOTES_SLOW = ["单据寄送慢了三天。", "Reply to our e-mail took a week.", "报价回复较慢。"]


def _utc(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A local (Shanghai) time of `day`, as UTC."""
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI).astimezone(timezone.utc)


def seed(staff: dict, today: date) -> dict:
    if db.session.scalar(select(func.count()).select_from(Ticket)):
        return _counts()
    rng = random.Random(60_606)
    customers = db.session.execute(select(Customer.id, Customer.owner_id, Customer.country)
                                   .where(Customer.status.in_(("active", "dormant")))
                                   .order_by(Customer.id).limit(60)).all()
    if not customers:
        return _counts()
    service = staff["service"]
    _delivery_visits(service, today, rng)
    visits = _visit_history(customers, service, today, rng)
    _tickets(customers, staff, today, rng, visits)
    db.session.flush()
    _ticket_history(staff, today, rng)
    _forms(staff, today)
    return _counts()


def _counts() -> dict:
    return {"tickets": db.session.scalar(select(func.count()).select_from(Ticket)),
            "follow-up visits": db.session.scalar(select(func.count()).select_from(FollowUpVisit)),
            "service records": db.session.scalar(select(func.count()).select_from(ServiceRecord))}


def _delivery_visits(service, today: date, rng: random.Random) -> None:
    """What confirming the demo deliveries would have scheduled (a visit `visit_delay_days` after each), written
    as plain rows: those due more than two days ago were made, with answers; the others are due."""
    from .demo_trade import BulkRows
    from .visits.services import visit_delay_days

    delay = timedelta(days=visit_delay_days())
    rows = BulkRows()
    stmt = (select(Shipment.id, Shipment.delivered_on, Order.id, Order.customer_id, Customer.owner_id)
            .join(Order, Order.id == Shipment.order_id).join(Customer, Customer.id == Order.customer_id)
            .outerjoin(FollowUpVisit, (FollowUpVisit.shipment_id == Shipment.id)
                       & (FollowUpVisit.reason == VisitReason.DELIVERY.value))
            .where(Shipment.delivered_on.is_not(None), FollowUpVisit.id.is_(None)).order_by(Shipment.id))
    empty = {key: None for key in ("answered_by", "quality_ok", "quality_note", "service_timely", "service_note",
                                   "sales_rating", "suggestions", "score", "channel", "done_at", "done_by_id",
                                   "salesperson_id")}
    for count, (shipment_id, delivered_on, order_id, customer_id, owner_id) in enumerate(db.session.execute(stmt)):
        due = delivered_on + delay
        values = dict(empty, customer_id=customer_id, order_id=order_id, shipment_id=shipment_id,
                      reason=VisitReason.DELIVERY.value, due_on=due, state=VisitState.DUE.value, problem=False,
                      created_by_id=service.id, created_at=_utc(delivered_on, 17), updated_at=_utc(delivered_on, 17))
        if due < today - timedelta(days=2):
            answers = _answers(rng, False)
            visit = FollowUpVisit(**answers)
            values.update(answers, state=VisitState.DONE.value, channel="phone", done_at=_utc(due, 11),
                          done_by_id=service.id, salesperson_id=owner_id, updated_at=_utc(due, 11),
                          problem=_is_problem(visit))
        rows.add(FollowUpVisit, **values)
        if count % 5000 == 4999:
            rows.flush()
    rows.finish()


def _is_problem(visit) -> bool:
    from .visits.services import is_problem

    return is_problem(visit)


def _answers(rng: random.Random, foreign: bool) -> dict:
    score = rng.choices([5, 4, 3, 2, 1], weights=[45, 33, 13, 6, 3])[0]
    quality_ok = score >= 3 and rng.random() > 0.06 or score >= 4
    timely = score >= 4 or rng.random() > 0.4
    return {"answered_by": rng.choice(ANSWERERS), "quality_ok": quality_ok,
            "quality_note": None if quality_ok else rng.choice(NOTES_BAD), "service_timely": timely,
            "service_note": None if timely else rng.choice(NOTES_SLOW),
            "sales_rating": max(1, min(5, score + rng.choice([-1, 0, 0, 0, 1]))),
            "suggestions": rng.choice(SUGGESTIONS) or None, "score": score}


def _done(visit: FollowUpVisit, answers: dict, channel: str, when: datetime, by_id: int | None,
          salesperson_id: int | None) -> None:
    from .visits.services import is_problem

    for key, value in answers.items():
        setattr(visit, key, value)
    visit.channel = channel
    visit.state = VisitState.DONE.value
    visit.done_at = when
    visit.done_by_id = by_id
    visit.salesperson_id = salesperson_id
    visit.problem = is_problem(visit)


def _visit_history(customers, service, today: date, rng: random.Random) -> list[FollowUpVisit]:
    """Twelve months of visits made (15–30 a month), plus a few due today, overdue and upcoming."""
    orders_of = {}
    for order_id, customer_id in db.session.execute(select(Order.id, Order.customer_id).where(
            Order.state.in_(("shipped", "balance_received", "closed"))).order_by(Order.id)):
        orders_of.setdefault(customer_id, []).append(order_id)
    made = []
    first = date(today.year, today.month, 1)
    for back in range(12, -1, -1):
        year, month = first.year, first.month - back
        while month < 1:
            year, month = year - 1, month + 12
        start = date(year, month, 1)
        days = [start + timedelta(days=d) for d in range(31) if (start + timedelta(days=d)).month == month
                and start + timedelta(days=d) < today]
        for _ in range(rng.randint(15, 30) if days else 0):
            day = rng.choice(days)
            customer_id, owner_id, country = rng.choice(customers)
            orders = orders_of.get(customer_id)
            visit = FollowUpVisit(customer_id=customer_id, reason=VisitReason.DELIVERY.value if orders else
                                  VisitReason.MANUAL.value, order_id=rng.choice(orders) if orders else None,
                                  due_on=day, created_by_id=service.id, created_at=_utc(day - timedelta(days=7)))
            channel = rng.choices(["phone", "wechat", "email", "visit"], weights=[50, 30, 12, 8])[0]
            _done(visit, _answers(rng, country not in (None, "CN")), channel,
                  _utc(day, rng.randint(9, 17), rng.choice([0, 15, 30, 45])), service.id, owner_id)
            db.session.add(visit)
            made.append(visit)
    for customer_id in db.session.scalars(select(Customer.id).where(Customer.name.in_(
            ("北欧家居用品有限公司", "杭州恒泰五金制品有限公司")))):  # the buyers can answer these on /my/survey
        db.session.add(FollowUpVisit(customer_id=customer_id, reason=VisitReason.MANUAL.value,
                                     due_on=today - timedelta(days=1), assigned_to_id=service.id,
                                     created_by_id=service.id))
    for offset in (0, 0, -2, -5, 3, 6):  # due today, overdue, upcoming
        customer_id, _owner, _country = rng.choice(customers)
        db.session.add(FollowUpVisit(customer_id=customer_id, reason=VisitReason.MANUAL.value,
                                     due_on=today + timedelta(days=offset), assigned_to_id=service.id,
                                     created_by_id=service.id))
    db.session.flush()
    return made


STEPS = ["received", "assess", "assign", "propose", "send", "carry_out", "confirm", "close"]
STATE_AFTER = {"received": "received", "assess": "assessed", "assign": "assigned", "propose": "proposed",
               "send": "sent", "carry_out": "carried_out", "confirm": "confirmed", "close": "closed"}


def _tickets(customers, staff: dict, today: date, rng: random.Random, visits: list[FollowUpVisit]) -> None:
    """Complaints in every state (two closed ones reopened once on the way), some opened from problem visits."""
    from .visits.services import schedule_after_ticket

    service, manager = staff["service"], staff["manager"]
    portal_customers = [c for c, in db.session.execute(select(Customer.id).where(Customer.name.in_(
        ("北欧家居用品有限公司", "杭州恒泰五金制品有限公司"))).order_by(Customer.id))]  # buyer1's first
    recent_cut = today - timedelta(days=14)
    problems = sorted((v for v in visits if v.problem), key=lambda v: v.done_at)
    recent = [v for v in problems if v.done_at.astimezone(SHANGHAI).date() >= recent_cut]
    older = [v for v in problems if v.done_at.astimezone(SHANGHAI).date() < today - timedelta(days=40)]
    # how far each ticket got: every state, closed ones most often
    reach = ["received", "assess", "assign", "propose", "send", "carry_out", "confirm", "close", "close", "close",
             "close", "close", "carry_out", "assign"]
    days = {"minor": 10, "major": 5, "critical": 2}
    for i, last in enumerate(reach):
        category, subject, description, cause, solution, resolution = COMPLAINTS[i % len(COMPLAINTS)]
        if i < 2 and portal_customers:
            customer_id = portal_customers[i % len(portal_customers)]
        else:
            customer_id = customers[(i * 7) % len(customers)][0]
        closing = last == "close"
        # closed complaints come from the past year; open ones are recent, as on a desk that keeps up
        pool = older if closing else recent
        source = pool.pop() if i >= 10 and i != 12 and pool else None
        if i == 12 and portal_customers:  # buyer1 has a solution to confirm on the portal
            customer_id = portal_customers[0]
        if source is not None:
            customer_id = source.customer_id
        if portal_customers and customer_id == portal_customers[0]:  # buyer1 writes English
            category, subject, description, cause, solution, resolution = COMPLAINTS[3 if i == 0 else 5]
        order = db.session.scalar(select(Order).where(Order.customer_id == customer_id, Order.state.in_(
            ("shipped", "balance_received", "closed"))).order_by(Order.id.desc()).limit(1))
        steps = STEPS.index(last)
        received = (source.done_at.astimezone(SHANGHAI).date() if source else
                    today - timedelta(days=rng.randint(30, 330) if closing else rng.randint(steps, 2 + 2 * steps)))
        channel = "portal" if i < 2 else rng.choice(["phone", "email", "wechat", "fax", "visit"])
        severity = ["minor", "major", "critical"][i % 3]
        ticket = Ticket(number=numbering.next_number("ticket", received.year), customer_id=customer_id,
                        order_id=order.id if order else None, channel=channel, category=category, subject=subject,
                        description=description, contact_name=rng.choice(ANSWERERS), received_at=_utc(received, 9),
                        created_at=_utc(received, 9), created_by_id=service.id,
                        source_visit_id=source.id if source else None, reopen_count=0)
        if order is not None and order.items:
            ticket.lines = [TicketLine(order_item_id=order.items[0].id,
                                       quantity=(order.items[0].quantity / 20).quantize(Decimal("1")) or None)]
        events = [TicketEvent(kind="received", at=_utc(received, 9), user_id=service.id, state_to="received",
                              customer_visible=True, note=None)]
        state, day, reopened = "received", received, False
        for step in STEPS[1:STEPS.index(last) + 1]:
            day = min(day + timedelta(days=rng.randint(0, 2)), today)
            note, visible, who = None, False, service.id
            if step == "assess":
                ticket.severity = severity
                ticket.due_on = day + timedelta(days=days[severity])
                note = severity
            elif step == "assign":
                ticket.department = {"quality": "quality", "packaging": "production", "delivery": "logistics",
                                     "service": "sales"}.get(category, "technical")
                ticket.assignee_id = service.id
            elif step == "propose":
                ticket.cause, ticket.solution, ticket.resolution = cause, solution, resolution
                if resolution in ("claim", "return", "replacement"):
                    ticket.cost_amount = Decimal(rng.randint(8, 60) * 100)
                if resolution in ("claim", "return"):
                    ticket.claim_amount = Decimal(rng.randint(5, 40) * 100)
            elif step == "send":
                note, visible = solution, True
            elif step == "carry_out":
                visible = True
            elif step == "confirm":
                visible = True
                if i in (8, 9) and not reopened:  # the customer was not satisfied the first time
                    events.append(TicketEvent(kind="reopen", at=_utc(day, 11), user_id=service.id,
                                              state_from="carried_out", state_to="assigned", customer_visible=True,
                                              note="客户反馈问题仍未解决，重新处理。"))
                    ticket.reopen_count += 1
                    reopened = True
                    for again in ("propose", "send", "carry_out"):
                        day = min(day + timedelta(days=1), today)
                        events.append(TicketEvent(kind=again, at=_utc(day, 10), user_id=service.id,
                                                  state_from={"propose": "assigned", "send": "proposed",
                                                              "carry_out": "sent"}[again],
                                                  state_to=STATE_AFTER[again], customer_visible=again != "propose"))
            elif step == "close":
                who = manager.id if i % 2 else service.id
                ticket.summary = f"已按方案处理完毕：{solution}"
                ticket.preventive_action = "纳入来料检验和出货检验清单，每月复查。"
                ticket.closed_at = _utc(day, 16)
                ticket.closed_by_id = who
                visible = True
            events.append(TicketEvent(kind=step, at=_utc(day, 10 + STEPS.index(step) % 6), user_id=who,
                                      state_from=state, state_to=STATE_AFTER[step], note=note,
                                      customer_visible=visible))
            state = STATE_AFTER[step]
        events.insert(2 if len(events) > 2 else 1, TicketEvent(
            kind="note", at=_utc(received, 15), user_id=service.id, customer_visible=False,
            note="内部：与车间核对了同批次库存。"))
        ticket.state = state
        ticket.events = events
        ticket.updated_at = events[-1].at
        db.session.add(ticket)
        db.session.flush()
        if state in ("carried_out", "confirmed", "closed") and ticket.category in ("quality", "packaging"):
            db.session.add(ServiceRecord(customer_id=customer_id, ticket_id=ticket.id, order_id=ticket.order_id,
                                         served_on=min(received + timedelta(days=3), today), fault=description,
                                         handling=solution, parts="密封圈 ×60" if i % 2 else None,
                                         hours=Decimal(rng.choice(["1.5", "2", "3.5", "4"])),
                                         technician="技术部 周工", created_by_id=service.id))
        if state == "closed":
            second = schedule_after_ticket(ticket, ticket.closed_at.astimezone(SHANGHAI).date())
            if second.due_on < today - timedelta(days=1):
                answers = _answers(rng, False)
                answers.update(quality_ok=True, service_timely=True, score=max(answers["score"], 4))
                _done(second, answers, "phone", _utc(second.due_on, 14), service.id,
                      db.session.get(Customer, customer_id).owner_id)


TICKETS_PER_ORDERS = 250  # a desk's history: one complaint for every 250 orders


def _ticket_history(staff: dict, today: date, rng: random.Random) -> None:
    """Closed complaints in proportion to the order book (big seeds: 100,000 orders give 400), each with its
    steps and its second visit made, written as plain rows."""
    from .demo_trade import BulkRows
    from .visits.services import visit_delay_days

    orders = db.session.scalar(select(func.count()).select_from(Order))
    extra = orders // TICKETS_PER_ORDERS - db.session.scalar(select(func.count()).select_from(Ticket))
    if extra <= 0:
        return
    delivered = db.session.execute(
        select(Order.id, Order.customer_id, Customer.owner_id, Shipment.delivered_on)
        .join(Shipment, Shipment.order_id == Order.id).join(Customer, Customer.id == Order.customer_id)
        .where(Shipment.delivered_on.is_not(None), Shipment.delivered_on < today - timedelta(days=30))
        .order_by(Order.id)).all()
    if not delivered:
        return
    service, manager = staff["service"], staff["manager"]
    picks = sorted((rng.choice(delivered) for _ in range(extra)), key=lambda row: row[3])
    by_year: dict[int, list] = {}
    for pick in picks:
        by_year.setdefault((pick[3] + timedelta(days=5)).year, []).append(pick)
    delay = timedelta(days=visit_delay_days())
    rows = BulkRows()
    for year, group in sorted(by_year.items()):
        for value, (order_id, customer_id, owner_id, delivered_on) in zip(
                numbering.reserve("ticket", len(group), year), group):
            category, subject, description, cause, solution, resolution = rng.choice(COMPLAINTS)
            severity = rng.choice(["minor", "minor", "major", "critical"])
            day = delivered_on + timedelta(days=5)
            received = _utc(day, 9)
            closed_on = min(day + timedelta(days=rng.randint(3, 12)), today)
            ticket_id = rows.add(
                Ticket, number=numbering.format_value("ticket", value, year), customer_id=customer_id,
                order_id=order_id, channel=rng.choice(["phone", "email", "wechat"]), category=category,
                subject=subject, description=description, contact_name=rng.choice(ANSWERERS), received_at=received,
                state="closed", severity=severity, due_on=day + timedelta(days={"minor": 10, "major": 5}.get(
                    severity, 2)), department="quality", assignee_id=service.id, cause=cause, solution=solution,
                resolution=resolution, currency="CNY", summary=f"已按方案处理完毕：{solution}",
                preventive_action="纳入出货检验清单。", closed_at=_utc(closed_on, 16), closed_by_id=manager.id,
                reopen_count=0, created_by_id=service.id, created_at=received, updated_at=_utc(closed_on, 16))
            state = "received"
            for step in STEPS:
                visible = step in ("received", "send", "carry_out", "confirm", "close")
                at = received if step == "received" else _utc(min(day + timedelta(days=STEPS.index(step)),
                                                                   closed_on), 10)
                rows.add(TicketEvent, ticket_id=ticket_id, at=at, user_id=service.id, kind=step,
                         state_from=None if step == "received" else state, state_to=STATE_AFTER[step],
                         note=solution if step == "send" else None, customer_visible=visible)
                state = STATE_AFTER[step]
            due = closed_on + delay
            answers = _answers(rng, False)
            answers.update(quality_ok=True, service_timely=True, score=max(answers["score"], 4))
            done = due < today
            rows.add(FollowUpVisit, customer_id=customer_id, reason=VisitReason.TICKET.value, order_id=order_id,
                     ticket_id=ticket_id, due_on=due, state=VisitState.DONE.value if done else VisitState.DUE.value,
                     problem=False, created_by_id=service.id, created_at=_utc(closed_on, 16),
                     updated_at=_utc(closed_on, 16),
                     **({**answers, "channel": "phone", "done_at": _utc(due, 14), "done_by_id": service.id,
                         "salesperson_id": owner_id} if done else
                        {key: None for key in (*answers, "channel", "done_at", "done_by_id", "salesperson_id")}))
    rows.finish()


def _forms(staff: dict, today: date) -> None:
    """Monthly forms: the older months submitted by the service lead, last month a draft."""
    from .satisfaction import services as satisfaction

    service = staff["service"]
    first = date(today.year, today.month, 1)
    for back in range(6, 0, -1):
        year, month = first.year, first.month - back
        while month < 1:
            year, month = year - 1, month + 12
        if db.session.scalar(select(SatisfactionMonth.id).where(SatisfactionMonth.year == year,
                                                                SatisfactionMonth.month == month)):
            continue
        form = SatisfactionMonth(year=year, month=month, created_by_id=service.id,
                                 improvement_actions="1. 出货前增加密封性抽检比例至 5%。\n2. 外箱统一改用七层瓦楞纸。\n"
                                                     "3. 业务员出差时指定代理人，邮件 24 小时内回复。")
        db.session.add(form)
        db.session.flush()
        if back > 1:
            satisfaction.submit(form, service, today)
            form.submitted_at = _utc(form.due_on - timedelta(days=1), 17)  # on time, as a desk does
    db.session.flush()
