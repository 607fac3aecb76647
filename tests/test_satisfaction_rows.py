"""The satisfaction tables' rows written in Python (portal/satisfaction/rows.py) give the markup the Jinja macros
gave, byte for byte, on generated rows: hostile text, missing answers, tickets in any state, the form's
textareas with posted text, saved actions and errors, in both languages and under a script root."""
from pathlib import Path

import pytest
from flask_babel import force_locale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent

# templates/satisfaction/_parts.html's row macros as they were before rows.py replaced them (same markup).
OLD_PARTS = """{#- Pieces shared by the satisfaction pages (screen). Rows are the plain dicts of satisfaction.services. -#}
{% macro yes_no(value) -%}
{% if value is none %}—{% elif value %}<span class="badge ok">{{ _("Yes") }}</span>{% else %}<span class="badge bad">{{ _("No") }}</span>{% endif %}
{%- endmacro %}
{#- The cells of a problem row; `t` is satisfaction_rows(), found once a table. Rows are dicts: r["x"] finds the
    key at once, where r.x first tries an attribute and fails (microseconds each, thousands a page). -#}
{% macro said(r, t) -%}
{% if r["quality_ok"] == false %}<div><strong>{{ t.quality }}:</strong> <span class="prewrap">{{ r["quality_note"] or t.quality_not_ok }}</span></div>{% endif %}
{% if r["service_timely"] == false %}<div><strong>{{ t.service }}:</strong> <span class="prewrap">{{ r["service_note"] or t.not_timely }}</span></div>{% endif %}
{% if r["suggestions"] %}<div><strong>{{ t.suggestions }}:</strong> <span class="prewrap">{{ r["suggestions"] }}</span></div>{% endif %}
{%- endmacro %}

{% macro tickets(r, t) %}
{% for tk in r["tickets"] %}<div class="sat-ticket"><a href="{{ t.ticket_url }}{{ tk["id"] }}">{{ tk["number"] }}</a> <span class="state state-{{ tk["state"] }}">{{ t.ticket_state.get(tk["state"], tk["state"]) }}</span></div>
{% else %}<span class="muted">{{ t.no_ticket }}</span>{% endfor %}
{%- endmacro %}

{% macro problems(rows, id="problems") %}{% set t = satisfaction_rows() %}
<div class="table-scroll">
<table class="list sat-problem-list" id="{{ id }}">
  <thead><tr><th>{{ _("Customer") }}</th><th>{{ _("Visited on") }}</th><th>{{ _("Score") }}</th><th>{{ _("What they said") }}</th><th>{{ _("Ticket") }}</th></tr></thead>
  <tbody>
  {% for r in rows %}
    <tr id="problem-{{ r["visit_id"] }}"><td><a href="{{ t.customer_url }}{{ r["customer_id"] }}">{{ r["customer"] }}</a></td>
      <td class="nowrap"><a href="{{ t.visit_url }}{{ r["visit_id"] }}">{{ r["date"] }}</a> {{ r["time"] }}</td><td class="num">{{ r["score"] if r["score"] is not none else "—" }}</td>
      <td>{{ said(r, t) }}</td><td>{{ tickets(r, t) }}</td></tr>
  {% else %}
    <tr><td colspan="5" class="muted">{{ _("No problems.") }}</td></tr>
  {% endfor %}
  </tbody>
</table>
</div>
{% endmacro %}

{% macro visits_table(rows) %}
{% set t, answer = satisfaction_rows(), {none: yes_no(none), true: yes_no(true), false: yes_no(false)} %}
<div class="table-scroll">
<table class="list compact sat-visits-table" id="visits">
  <thead><tr><th>{{ _("Date") }}</th><th>{{ _("Customer") }}</th><th>{{ _("Channel") }}</th><th>{{ _("Answered by") }}</th>
    <th>{{ _("Quality all right") }}</th><th>{{ _("Service timely") }}</th><th>{{ _("Salesperson") }}</th><th class="num">{{ _("Rating") }}</th>
    <th>{{ _("Suggestions") }}</th><th class="num">{{ _("Score") }}</th><th>{{ _("Problem") }}</th></tr></thead>
  <tbody>
  {% for r in rows %}
    <tr id="visit-{{ r["visit_id"] }}" {% if r["problem"] %}class="sat-problem"{% endif %}>
      <td class="nowrap"><a href="{{ t.visit_url }}{{ r["visit_id"] }}">{{ r["date"] }}</a></td>
      <td><a href="{{ t.customer_url }}{{ r["customer_id"] }}">{{ r["customer"] }}</a></td>
      <td>{{ t.channel.get(r["channel"], r["channel"]) if r["channel"] else "—" }}</td><td>{{ r["answered_by"] or "—" }}</td>
      <td>{{ answer[r["quality_ok"]] }}{% if r["quality_note"] %} <span class="prewrap small">{{ r["quality_note"] }}</span>{% endif %}</td>
      <td>{{ answer[r["service_timely"]] }}{% if r["service_note"] %} <span class="prewrap small">{{ r["service_note"] }}</span>{% endif %}</td>
      <td>{{ r["salesperson"] or "—" }}</td><td class="num">{{ r["sales_rating"] if r["sales_rating"] is not none else "—" }}</td>
      <td class="prewrap small">{{ r["suggestions"] or "" }}</td><td class="num">{{ r["score"] if r["score"] is not none else "—" }}</td>
      <td>{% if r["problem"] %}<span class="badge bad">{{ t.problem }}</span>{% endif %}</td>
    </tr>
  {% else %}
    <tr><td colspan="11" class="muted">{{ _("No visits in this period.") }}</td></tr>
  {% endfor %}
  </tbody>
</table>
</div>
{% endmacro %}
"""

# The monthly form's problem table (templates/satisfaction/_month.html) as it was.
OLD_PROBLEM_TABLE = """{% macro problem_table(editable) %}{% set t = satisfaction_rows() %}
<table class="list sat-problem-list" id="problems">
  <thead><tr><th>{{ _("Customer") }}</th><th>{{ _("Visited on") }}</th><th class="num">{{ _("Score") }}</th><th>{{ _("What they said") }}</th><th>{{ _("Ticket") }}</th><th>{{ _("Action taken") }}</th></tr></thead>
  <tbody>
  {% for r in figures.problem_rows %}
    {% set key = r["visit_id"]|string %}
    <tr id="problem-{{ r["visit_id"] }}"><td><a href="{{ t.customer_url }}{{ r["customer_id"] }}">{{ r["customer"] }}</a></td>
      <td class="nowrap"><a href="{{ t.visit_url }}{{ r["visit_id"] }}">{{ r["date"] }}</a></td><td class="num">{{ r["score"] if r["score"] is not none else "—" }}</td>
      <td>{{ said(r, t) }}</td><td>{{ tickets(r, t) }}</td>
      <td>{% if editable %}
        {% set err = action_errors.get("action-" ~ key) %}
        <div class="field {% if err %}has-error{% endif %}">
          <label class="sr-only" for="action-{{ key }}">{{ t.action_taken }}</label>
          <textarea id="action-{{ key }}" name="action-{{ key }}" rows="2" {% if err %}aria-invalid="true" aria-describedby="action-{{ key }}-error"{% endif %}>{{ posted.get(key, actions.get(key, "")) }}</textarea>
          {% if err %}<ul class="errors" id="action-{{ key }}-error"><li>{{ err }}</li></ul>{% endif %}
        </div>
      {% else %}<span class="prewrap">{{ actions.get(key, "") }}</span>{% endif %}</td></tr>
  {% else %}
    <tr><td colspan="6" class="muted">{{ _("No problems.") }}</td></tr>
  {% endfor %}
  </tbody>
</table>
{% endmacro %}
"""


def _problem_table_now() -> str:
    """The `problem_table` macro of today's _month.html (it reads the page's variables, so it is rendered here
    with the same context as the old one)."""
    source = (ROOT / "templates/satisfaction/_month.html").read_text()
    start = source.index("{% macro problem_table(editable) %}")
    return source[start:source.index("{% endmacro %}", start) + len("{% endmacro %}")]


text = st.one_of(st.none(), st.just(""), st.text(max_size=12),
                 st.sampled_from(["<b>&amp;</b>", "a\"b", "it's", "包装破损 & <script>", "  "]))
ticket = st.fixed_dictionaries({
    "id": st.integers(1, 10**9), "number": st.text(max_size=10),
    "state": st.sampled_from(["received", "closed", "in_progress", "odd<state>", ""])})
row = st.fixed_dictionaries({
    "visit_id": st.integers(1, 10**9), "customer_id": st.integers(1, 10**9), "customer": st.text(max_size=15),
    "customer_code": st.text(max_size=6), "date": st.sampled_from(["2026-10-01", "2026-09-30", "<d>"]),
    "time": st.sampled_from(["00:00", "23:59", "&"]),
    "channel": st.sampled_from([None, "", "phone", "visit", "email", "wechat", "other", "x<y>"]),
    "answered_by": text, "quality_ok": st.sampled_from([None, True, False]), "quality_note": text,
    "service_timely": st.sampled_from([None, True, False]), "service_note": text,
    "salesperson_id": st.one_of(st.none(), st.integers(1, 9)), "salesperson": text,
    "sales_rating": st.one_of(st.none(), st.integers(0, 5)), "suggestions": text,
    "score": st.one_of(st.none(), st.integers(0, 5)), "problem": st.booleans(),
    "tickets": st.lists(ticket, max_size=3)})


@pytest.mark.parametrize("locale", ["zh", "en"])
@pytest.mark.parametrize("root", ["", "/portal"])
@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=st.lists(row, max_size=6), editable=st.booleans(), data=st.data())
def test_rows_render_what_the_macros_rendered(app, locale, root, rows, editable, data):
    keys = [str(r["visit_id"]) for r in rows] + ["999"]
    texts = st.dictionaries(st.sampled_from(keys), st.one_of(st.just(""), st.none(), st.text(max_size=8),
                                                             st.just("<i>done</i> & \"ok\"")), max_size=4)
    context = {"rows": rows, "figures": {"problem_rows": rows}, "editable": editable,
               "actions": data.draw(texts), "posted": data.draw(texts),
               "action_errors": {f"action-{k}": v for k, v in data.draw(texts).items()}}
    old, now = _templates(app)
    with app.test_request_context("/", base_url=f"http://localhost{root}"), force_locale(locale):
        before, after = old.make_module(context), now.make_module(context)
        for name, args in [("problems", (rows,)), ("problems", (rows, "p2")), ("visits_table", (rows,)),
                           ("problem_table", (editable,))]:
            assert getattr(after, name)(*args) == getattr(before, name)(*args), name


_compiled: dict = {}


def _templates(app):
    """The old macros and today's, compiled once per app (hypothesis calls the test a few hundred times)."""
    if app not in _compiled:
        _compiled[app] = (app.jinja_env.from_string(OLD_PARTS + OLD_PROBLEM_TABLE),
                          app.jinja_env.from_string((ROOT / "templates/satisfaction/_parts.html").read_text()
                                                    + _problem_table_now()))
    return _compiled[app]
