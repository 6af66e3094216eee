"""Servicing's errors: domain errors (a code, an HTTP status, zh-CN and English) and the invariant
violations that mean a bug (raised explicitly, never asserted, so they hold under `python -O`)."""

from __future__ import annotations

from fenqi.kit.errors import Conflict


class LoanNotOpen(Conflict):
    code = "loan_not_open"
    zh = "贷款已结清、取消或核销：{detail}"
    en = "The loan is paid off, cancelled or written off: {detail}"


class InvariantViolation(RuntimeError):
    """Servicing found its own figures inconsistent (a bug): raised explicitly, never asserted."""


class LedgerMismatch(InvariantViolation):
    """A loan's stored figures disagree with its ledger: a bug, never the caller's fault. Raised (not
    asserted, so it holds under `python -O`) inside the transaction that caused it, which then rolls back."""

    def __init__(self, loan_id: int, differences: dict[str, tuple[int, int]]) -> None:
        self.loan_id, self.differences = loan_id, differences
        super().__init__(f"loan {loan_id}: stored figures differ from the ledger (stored, ledger): {differences}")
