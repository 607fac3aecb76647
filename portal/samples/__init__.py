from flask import Blueprint

bp = Blueprint("samples", __name__)

from . import views  # noqa: E402,F401
