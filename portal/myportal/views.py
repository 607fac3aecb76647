"""The customer portal."""
from ..auth.access import role_required
from ..models import Role
from ..web import render
from . import bp
from .access import my_customer


@bp.get("/")
@role_required(Role.CUSTOMER)
def index():
    """The buyer's start page: their company and whom to contact."""
    return render("myportal/index.html", customer=my_customer())
