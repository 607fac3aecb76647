from flask import Blueprint

bp = Blueprint("aftersales", __name__)

from . import views  # noqa: E402,F401
