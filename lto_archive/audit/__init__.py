"""Audits of stored cartridges (CST RT-030: regular checks of stored media): what is due under the catalog's
policy (plan), doing it with the read engine and restore drills (run, drill), and the report. See docs/audit.md.
"""

from .clock import NOW_ENV, add_months, clock, parse_time
from .metrics import metrics_text
from .plan import DUE, FAILING, GOOD, OVERDUE, STATES, AuditPlan, CartridgeState, Place, plan_audits
from .reach import DriveReach, LibraryReach, Reach
from .report import report_document, report_html
from .run import AuditOutcome, AuditRun, run_audits

__all__ = ["NOW_ENV", "add_months", "clock", "parse_time", "GOOD", "DUE", "OVERDUE", "FAILING", "STATES",
           "AuditPlan", "CartridgeState", "Place", "plan_audits", "DriveReach", "LibraryReach", "Reach",
           "metrics_text", "report_document", "report_html", "AuditOutcome", "AuditRun", "run_audits"]
