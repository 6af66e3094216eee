"""放款 and merchant settlement statements.

On signing, the funder pays the merchant for the financed part of the price, less the merchant's
interest-free subsidy (贴息) and the platform's merchant fee:

    amount = price − down payment − subsidy − merchant fee  (= financed − subsidy − fee)

The booking entry (servicing) left the financed amount in merchant_payable; the disbursement entry
clears it (the down payment reaches the merchant through payments' own entry):

    Dr merchant_payable        financed
    Cr funder_payable          amount      the cash the funder paid out on the platform's behalf
    Cr subsidy_income          subsidy     withheld from the merchant (interest-free plans)
    Cr merchant_fee_income     fee         the platform's fee, withheld from the merchant
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.catalog.service import get_merchant
from fenqi.funding.models import Disbursement, Funder
from fenqi.funding.service import get_funder
from fenqi.kit.errors import InvalidInput
from fenqi.kit.money import fmt_yuan, from_fen, round_fen, to_fen
from fenqi.ledger.service import Line, post_entry


def merchant_fee_fen(financed_fen: int, fee_rate: Decimal) -> int:
    return to_fen(round_fen(from_fen(financed_fen) * fee_rate))


def disburse(
    session: Session, *, application_id: int, loan_id: int, funder_code: str, merchant_id: int, price_fen: int,
    down_payment_fen: int, subsidy_fen: int, on: date,
) -> Disbursement:
    """Record and post one disbursement; idempotent by application (signing twice pays once)."""
    existing = session.scalar(select(Disbursement).where(Disbursement.application_id == application_id))
    if existing is not None:
        return existing
    funder = get_funder(session, funder_code)
    merchant = get_merchant(session, merchant_id)
    financed = price_fen - down_payment_fen
    fee = merchant_fee_fen(financed, merchant.fee_rate)
    amount = financed - subsidy_fen - fee
    if financed <= 0 or subsidy_fen < 0 or amount <= 0:
        raise InvalidInput(f"disbursement amounts for application {application_id}")
    key = f"disbursement:application:{application_id}"
    lines = [Line.dr("merchant_payable", financed), Line.cr("funder_payable", amount)]
    if subsidy_fen:
        lines.append(Line.cr("subsidy_income", subsidy_fen))
    if fee:
        lines.append(Line.cr("merchant_fee_income", fee))
    post_entry(session, reason="disbursement", lines=lines, idempotency_key=key, business_date=on, loan_id=loan_id,
               memo=f"放款 {funder.code} → {merchant.code}")
    row = Disbursement(application_id=application_id, loan_id=loan_id, funder_id=funder.id, merchant_id=merchant.id,
                       business_date=on, price_fen=price_fen, down_payment_fen=down_payment_fen,
                       financed_fen=financed, subsidy_fen=subsidy_fen, merchant_fee_fen=fee, amount_fen=amount,
                       journal_ref=key)
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True, slots=True)
class Statement:
    merchant_id: int
    merchant_name: str
    start: date
    end: date
    rows: list[dict[str, Any]]
    totals: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "merchant_id": self.merchant_id, "merchant": self.merchant_name,
            "from": self.start.isoformat(), "to": self.end.isoformat(), "count": len(self.rows),
            "lines": self.rows,
            "totals": {k: fmt_yuan(from_fen(v)) for k, v in self.totals.items()},
        }


_AMOUNTS = ("price", "down_payment", "financed", "subsidy", "merchant_fee", "amount")


def settlement_statement(session: Session, *, merchant_id: int, start: date, end: date) -> Statement:
    """What each funder paid the merchant between two business dates, with the deductions itemised."""
    if end < start:
        raise InvalidInput("the statement ends before it starts")
    merchant = get_merchant(session, merchant_id)
    rows = session.execute(
        select(Disbursement, Funder.code)
        .join(Funder, Funder.id == Disbursement.funder_id)
        .where(Disbursement.merchant_id == merchant_id, Disbursement.business_date >= start,
               Disbursement.business_date <= end)
        .order_by(Disbursement.business_date, Disbursement.id)
    )
    lines, totals = [], dict.fromkeys(_AMOUNTS, 0)
    for d, funder_code in rows:
        values = {"price": d.price_fen, "down_payment": d.down_payment_fen, "financed": d.financed_fen,
                  "subsidy": d.subsidy_fen, "merchant_fee": d.merchant_fee_fen, "amount": d.amount_fen}
        for k, v in values.items():
            totals[k] += v
        lines.append({"date": d.business_date.isoformat(), "application_id": d.application_id, "loan_id": d.loan_id,
                      "funder": funder_code, **{k: fmt_yuan(from_fen(v)) for k, v in values.items()}})
    return Statement(merchant.id, merchant.name, start, end, lines, totals)
