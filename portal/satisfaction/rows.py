"""The rows of the satisfaction tables as HTML, written in Python rather than by Jinja macros.

The monthly form shows a hundred visits and every problem of the month (~80 at 100,000 orders, each an editable
row): through macros a row cost ~15 us, most of it Jinja calling macros and looking names up, which made the page
grow with the month. Here a row is a few string joins. The markup, whitespace included, is the macros' as they were
(tests/test_satisfaction_rows.py renders both on generated rows, including hostile text, and compares them).

Every value is escaped with markupsafe's escape, as `{{ }}` did; `t` is `views.satisfaction_rows()` (links and
words made once per worker and language, with their escaped pieces as `t.html`), `answer` the template's yes/no
badges. The tables' empty rows stay in the templates.
"""
from __future__ import annotations

from markupsafe import Markup, escape


def _n(value) -> str:
    """A number as {{ }} writes it: ids and scores are ints, written as they are (escape costs ~0.3 us, a dozen
    values a row); anything else escaped."""
    return str(value) if value.__class__ is int else escape(value)


def _text(value) -> str:
    """escape(), without its cost for the empty text (most problems have no action written yet)."""
    return "" if value == "" else escape(value)


def _dash(value) -> str:
    """{{ value if value is not none else "—" }}"""
    return "—" if value is None else _n(value)


class Words:
    """The words and links of `t` escaped, as the pieces of HTML the rows repeat (kept with `t` as `t.html`)."""

    def __init__(self, t):
        self.customer_url, self.visit_url, self.ticket_url = (escape(t.customer_url), escape(t.visit_url),
                                                             escape(t.ticket_url))
        self.quality = f'<div><strong>{escape(t.quality)}:</strong> <span class="prewrap">'
        self.quality_not_ok = escape(t.quality_not_ok)
        self.service = f'<div><strong>{escape(t.service)}:</strong> <span class="prewrap">'
        self.not_timely = escape(t.not_timely)
        self.suggestions = f'<div><strong>{escape(t.suggestions)}:</strong> <span class="prewrap">'
        self.no_ticket = f'\n<span class="muted">{escape(t.no_ticket)}</span>'
        self.ticket_state = t.ticket_state
        self.action_taken = escape(t.action_taken)
        self.channel = {key: escape(label) for key, label in t.channel.items()}
        self.problem = f'<span class="badge bad">{escape(t.problem)}</span>'


def said(r: dict, w: Words) -> str:
    """What the customer said that made the visit a problem: quality, service, suggestions (the macro `said`)."""
    quality = (f'{w.quality}{escape(r["quality_note"]) if r["quality_note"] else w.quality_not_ok}</span></div>'
               if r["quality_ok"] == False else "")  # noqa: E712 -- the macro's `== false`
    service = (f'{w.service}{escape(r["service_note"]) if r["service_note"] else w.not_timely}</span></div>'
               if r["service_timely"] == False else "")  # noqa: E712
    suggestions = f'{w.suggestions}{escape(r["suggestions"])}</span></div>' if r["suggestions"] else ""
    return f"{quality}\n{service}\n{suggestions}"


def tickets(r: dict, w: Words) -> str:
    """The tickets opened from the visit with their states, or "no ticket" (the macro `tickets`)."""
    found = r["tickets"]
    if not found:
        return w.no_ticket
    return "\n" + "".join(
        f'<div class="sat-ticket"><a href="{w.ticket_url}{_n(tk["id"])}">{escape(tk["number"])}</a> '
        f'<span class="state state-{escape(tk["state"])}">{escape(w.ticket_state.get(tk["state"], tk["state"]))}'
        f'</span></div>\n' for tk in found)


def problem_rows(rows: list[dict], t) -> Markup:
    """The rows of a day's or a week's problems (the body of _parts.html's `problems`)."""
    w = t.html
    return Markup("".join(
        f'\n    <tr id="problem-{_n(r["visit_id"])}"><td><a href="{w.customer_url}{_n(r["customer_id"])}">'
        f'{escape(r["customer"])}</a></td>\n'
        f'      <td class="nowrap"><a href="{w.visit_url}{_n(r["visit_id"])}">{escape(r["date"])}</a> '
        f'{escape(r["time"])}</td><td class="num">{_dash(r["score"])}</td>\n'
        f'      <td>{said(r, w)}</td><td>{tickets(r, w)}</td></tr>\n  ' for r in rows))


def form_problem_rows(rows: list[dict], t, editable: bool, actions: dict, posted: dict,
                      action_errors: dict) -> Markup:
    """The rows of the monthly form's problems, each with its action taken: a textarea while the form is a draft
    (the posted text kept, its error beside it), the saved text once submitted (the body of _month.html's table)."""
    w = t.html
    out = []
    for r in rows:
        visit_id = _n(r["visit_id"])
        key = str(r["visit_id"])
        if editable:
            text = posted.get(key, actions.get(key, ""))
            err = action_errors.get("action-" + key) if action_errors else None
            name = escape(key)
            field = (f'\n        \n        <div class="field {"has-error" if err else ""}">\n'
                     f'          <label class="sr-only" for="action-{name}">{w.action_taken}</label>\n'
                     f'          <textarea id="action-{name}" name="action-{name}" rows="2" ')
            if err:
                action = (f'{field}aria-invalid="true" aria-describedby="action-{name}-error">'
                          f'{_text(text)}</textarea>\n'
                          f'          <ul class="errors" id="action-{name}-error"><li>{escape(err)}</li></ul>\n'
                          f'        </div>\n      ')
            else:
                action = f'{field}>{_text(text)}</textarea>\n          \n        </div>\n      '
        else:
            action = f'<span class="prewrap">{_text(actions.get(key, ""))}</span>'
        out.append(
            f'\n    \n    <tr id="problem-{visit_id}"><td><a href="{w.customer_url}{_n(r["customer_id"])}">'
            f'{escape(r["customer"])}</a></td>\n'
            f'      <td class="nowrap"><a href="{w.visit_url}{visit_id}">{escape(r["date"])}</a></td>'
            f'<td class="num">{_dash(r["score"])}</td>\n'
            f'      <td>{said(r, w)}</td><td>{tickets(r, w)}</td>\n'
            f'      <td>{action}</td></tr>\n  ')
    return Markup("".join(out))


def visit_rows(rows: list[dict], t, answer: dict) -> Markup:
    """The rows of the table of visits: every answer, the problem marked (the body of _parts.html's
    `visits_table`); `answer` maps None/True/False to the yes/no badges."""
    w = t.html
    customer_url, visit_url, channels, badge = w.customer_url, w.visit_url, w.channel, w.problem
    names: dict = {}  # a month's visits were made by a handful of salespeople
    out = []
    for r in rows:
        visit_id = _n(r["visit_id"])
        channel, salesperson = r["channel"], r["salesperson"]
        quality_note, service_note, suggestions = r["quality_note"], r["service_note"], r["suggestions"]
        name = names.get(salesperson)
        if name is None:
            name = names[salesperson] = escape(salesperson or "—")
        out.append(
            f'\n    <tr id="visit-{visit_id}" {PROBLEM_CLASS if r["problem"] else ""}>\n'
            f'      <td class="nowrap"><a href="{visit_url}{visit_id}">{escape(r["date"])}</a></td>\n'
            f'      <td><a href="{customer_url}{_n(r["customer_id"])}">{escape(r["customer"])}</a></td>\n'
            f'      <td>{(channels[channel] if channel in channels else escape(channel)) if channel else "—"}</td>'
            f'<td>{escape(r["answered_by"] or "—")}</td>\n'
            f'      <td>{answer[r["quality_ok"]]}{_note(quality_note) if quality_note else ""}</td>\n'
            f'      <td>{answer[r["service_timely"]]}{_note(service_note) if service_note else ""}</td>\n'
            f'      <td>{name}</td><td class="num">{_dash(r["sales_rating"])}</td>\n'
            f'      <td class="prewrap small">{escape(suggestions) if suggestions else ""}</td>'
            f'<td class="num">{_dash(r["score"])}</td>\n'
            f'      <td>{badge if r["problem"] else ""}</td>\n'
            f'    </tr>\n  ')
    return Markup("".join(out))


PROBLEM_CLASS = 'class="sat-problem"'


def _note(text) -> str:
    return f' <span class="prewrap small">{escape(text)}</span>'
