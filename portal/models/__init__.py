"""All models, importable from one place (and seen by Alembic)."""
from .aftersales import (Category, Channel, Department, FollowUpVisit, Resolution, SatisfactionMonth,  # noqa: F401
                         SatisfactionState, ServiceRecord, Severity, Ticket, TicketEvent, TicketLine, TicketState,
                         VisitChannel, VisitReason, VisitState)
from .attachments import Attachment
from .audit import AuditLog
from .dataversions import DataVersion  # noqa: F401
from .customers import (CURRENCIES, Contact, ContactLog, Customer, CustomerSearch, CustomerSearchGram,  # noqa: F401
                        CustomerStatus, Grade, LogKind, Source)
from .documents import DocumentKind, IssuedDocument, PrintJob  # noqa: F401
from .invitations import PortalInvitation  # noqa: F401
from .orders import (INCOTERMS, ChangeRequest, DunningNote, Inspection, Order, OrderEvent, OrderItem, OrderState,
                     Payment, PaymentKind, ProductionPlan, ProductionPlanLine, SalesTarget, Shipment, ShipmentLine)
from .products import Product
from .quotes import Quote, QuoteItem, QuoteState, line_amount
from .samples import Evaluation, FeeTerms, SampleRequest, SampleState
from .sequences import Sequence
from .settings import CompanySettings
from .users import LOCALES, STAFF_ROLES, Role, User, UserSession

__all__ = [
    "Attachment", "ChangeRequest", "DunningNote", "Evaluation", "FeeTerms", "INCOTERMS", "Inspection", "Order",
    "OrderEvent", "OrderItem", "OrderState", "Payment", "PaymentKind", "Product", "ProductionPlan",
    "ProductionPlanLine", "Quote", "QuoteItem", "QuoteState", "SalesTarget", "SampleRequest", "SampleState",
    "Shipment", "ShipmentLine", "line_amount",
    "AuditLog", "CURRENCIES", "CompanySettings", "Contact", "ContactLog", "Customer", "CustomerSearch", "CustomerStatus",
    "Grade", "LOCALES", "LogKind", "Source", "Role", "STAFF_ROLES", "Sequence",
    "User", "UserSession",
]
