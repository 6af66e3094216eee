"""JSON shapes of ledger objects (amounts as yuan strings with two decimals)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from fenqi.kit.money import from_fen
from fenqi.ledger.accounts import CHART
from fenqi.ledger.models import JournalEntry, JournalLine
from fenqi.ledger.service import trial_balance


def y(fen: int) -> str:
    return str(from_fen(fen))


def trial_balance_json(session: Session, as_of: date | None = None) -> dict[str, Any]:
    rows = trial_balance(session, as_of)
    return {
        "as_of": as_of.isoformat() if as_of else None,
        "accounts": [
            {
                "account": str(r.account),
                "name_zh": CHART[r.account].name_zh,
                "name_en": CHART[r.account].name_en,
                "kind": str(CHART[r.account].kind),
                "debits": y(r.debit),
                "credits": y(r.credit),
                "balance": y(r.balance),
            }
            for r in rows
        ],
        "total_debits": y(sum(r.debit for r in rows)),
        "total_credits": y(sum(r.credit for r in rows)),
        "balanced": sum(r.debit for r in rows) == sum(r.credit for r in rows),
    }


def entry_json(entry: JournalEntry, lines: list[JournalLine]) -> dict[str, Any]:
    return {
        "id": entry.id,
        "business_date": entry.business_date.isoformat(),
        "reason": entry.reason,
        "idempotency_key": entry.idempotency_key,
        "payment_ref": entry.payment_ref,
        "memo": entry.memo,
        "reverses_id": entry.reverses_id,
        "lines": [
            {"account": x.account, "loan_id": x.loan_id, "debit": y(x.debit_fen), "credit": y(x.credit_fen)}
            for x in lines
        ],
    }
