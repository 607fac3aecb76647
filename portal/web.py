"""View helpers shared by every area: page-or-fragment rendering, safe redirects."""
from urllib.parse import urlsplit

from flask import make_response, redirect, render_template, request, url_for


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_fragment() -> bool:
    """An htmx swap wants the fragment; a boosted link or a history restore (Back) needs the page."""
    headers = request.headers
    return is_htmx() and not headers.get("HX-Boosted") and headers.get("HX-History-Restore-Request") != "true"


def render(template: str, fragment: str | None = None, status: int = 200, **context):
    """Full page for a normal request, only `fragment` for an htmx swap; always Vary: HX-Request."""
    name = fragment if fragment and wants_fragment() else template
    response = make_response(render_template(name, **context), status)
    response.vary.add("HX-Request")
    return response


def url_before_id(endpoint: str, id_name: str) -> str:
    """url_for(endpoint) of a rule that ends with the record's id, without the id: a list writes each row's
    link as this prefix followed by the id (url_for costs ~30 us, 25 times a page)."""
    url = url_for(endpoint, **{id_name: 0})
    if not url.endswith("/0"):
        raise ValueError(f"{endpoint} does not end with <{id_name}>")
    return url[:-1]


def see_other(location: str):
    """Redirect after a successful POST (303, so the browser follows with GET)."""
    return redirect(location, code=303)


def safe_next(target: str | None, default: str) -> str:
    """`target` when it is a path on this site, else `default` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in target):
        return default
    return target


def apply_errors(form, errors: dict) -> None:
    """Put a service's {field: message} errors on the form: beside the field it names, or above the form
    ("" or a name the form does not have). A message already shown is not repeated."""
    for name, message in errors.items():
        target = getattr(form, name, None) if name else None
        message = str(message)
        if target is None or not hasattr(target, "errors"):
            if message not in form.form_errors:
                form.form_errors.append(message)
        elif message not in target.errors:
            target.errors = list(target.errors) + [message]
