from flask import Blueprint

bp = Blueprint("documents", __name__)

from . import checks, views  # noqa: E402,F401

bp.record_once(lambda state: checks.run(state.app))
