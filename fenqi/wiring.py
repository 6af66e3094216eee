"""Start-up wiring: the reactions one domain has to another's events (a down payment settled → the
application paid; a review decided → the application moves on) and the ports they offer each other.

`install()` is called explicitly, once per process, by every entry point — the app factory
(`fenqi.api.create_app`), the CLI (`fenqi.cli`), and every worker (`fenqi.payments.tasks`, the task
engine's worker) — never as a side effect of importing a module. Domains that are settled or reviewed
in a process without it raise `WiringMissing` instead of silently doing half the work.
"""

from __future__ import annotations

import threading

from fenqi.aftersales import hooks as aftersales
from fenqi.aftersales.cases import on_phone_back
from fenqi.collections import hooks as collections
from fenqi.devices import hooks as devices
from fenqi.ledger import check as ledger_check
from fenqi.ledger import snapshot as ledger_snapshot
from fenqi.origination import hooks as origination
from fenqi.partners import hooks as partners
from fenqi.payments import handlers as payment_handlers
from fenqi.payments import install as payments
from fenqi.servicing import check as loan_check
from fenqi.servicing import snapshot as loan_snapshot
from fenqi.servicing.cob_steps import register_day_step

_lock = threading.Lock()
_done = False


def install() -> None:
    """Register every domain's handlers and ports (idempotent)."""
    global _done
    with _lock:
        if _done:
            return
        ledger_check.register_subledger(loan_check.check_loans)  # the ledger check compares the loans too
        payments.install()
        origination.install()
        loan_snapshot.install()  # close-of-business steps: the daily loan and account snapshots
        # The ledger sits below servicing, so its day step is registered here rather than by the ledger.
        register_day_step("account_snapshot", ledger_snapshot.snapshot_accounts, order=20)
        aftersales.install()
        collections.install()
        devices.install()
        partners.install()  # routing checks licences and contracts; expiry reminders at the close
        # After-sales sits above the device lock: its phone-back port is wired here, not by devices.
        on_phone_back(devices.phone_back)
        payment_handlers.mark_installed()  # last: settling finds every handler registered
        _done = True
