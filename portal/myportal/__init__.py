from flask import Blueprint

bp = Blueprint("myportal", __name__)

from . import views  # noqa: E402,F401
