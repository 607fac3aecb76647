from flask import Blueprint

bp = Blueprint("visits", __name__)

from . import views  # noqa: E402,F401
