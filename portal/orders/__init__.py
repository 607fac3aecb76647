from flask import Blueprint

bp = Blueprint("orders", __name__)

from . import views  # noqa: E402,F401
