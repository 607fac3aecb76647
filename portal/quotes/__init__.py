from flask import Blueprint

bp = Blueprint("quotes", __name__)

from . import views  # noqa: E402,F401
