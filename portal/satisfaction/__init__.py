from flask import Blueprint

bp = Blueprint("satisfaction", __name__)

from . import views  # noqa: E402,F401
