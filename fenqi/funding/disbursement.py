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
from fenqi.funding.errors import QuotaExhausted
from fenqi.funding.models import Disbursement, Funder
from fenqi.funding.service import consume_quota, get_funder
from fenqi.kit.errors import InvalidInput
from fenqi.kit.money import fmt_yuan, from_fen, round_fen, to_fen
from fenqi.ledger import Line, entry_posted, post_entry


@dataclass(frozen=True, slots=True)
class Paid:
    """A disbursement as other domains see it: what the funder paid the merchant and what it withheld."""

    application_id: int
    loan_id: int | None
    financed_fen: int
    amount_fen: int
    subsidy_fen: int
    merchant_fee_fen: int

    @classmethod
    def of(cls, row: Disbursement) -> Paid:
        return cls(application_id=row.application_id, loan_id=row.loan_id, financed_fen=row.financed_fen,
                   amount_fen=row.amount_fen, subsidy_fen=row.subsidy_fen, merchant_fee_fen=row.merchant_fee_fen)


def disbursement_of(session: Session, application_id: int) -> Paid | None:
    """The application's disbursement, if it was paid out."""
    row = session.scalar(select(Disbursement).where(Disbursement.application_id == application_id))
    return None if row is None else Paid.of(row)


def merchant_fee_fen(financed_fen: int, fee_rate: Decimal) -> int:
    return to_fen(round_fen(from_fen(financed_fen) * fee_rate))


def disburse(
    session: Session, *, application_id: int, loan_id: int, funder_code: str, merchant_id: int, price_fen: int,
    down_payment_fen: int, subsidy_fen: int, on: date,
) -> Paid:
    """Record and post one disbursement; idempotent by application (signing twice pays once)."""
    existing = session.scalar(select(Disbursement).where(Disbursement.application_id == application_id))
    if existing is not None:
        return Paid.of(existing)
    funder = get_funder(session, funder_code)
    merchant = get_merchant(session, merchant_id)
    financed = price_fen - down_payment_fen
    fee = merchant_fee_fen(financed, merchant.fee_rate)
    amount = financed - subsidy_fen - fee
    if financed <= 0 or subsidy_fen < 0 or amount <= 0:
        raise InvalidInput.saying(f"申请 {application_id} 的放款金额无效",
                                  f"disbursement amounts for application {application_id}")
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
    return Paid.of(row)


def unwind_disbursement(session: Session, *, loan_id: int, on: date) -> Disbursement | None:
    """A returned phone: reverse the loan's disbursement, so the funder is owed nothing for it and the
    merchant's next settlement gives back what the funder paid, while the subsidy and the platform's fee
    withheld from the merchant are returned to it. Idempotent (one reversal per disbursement); None when
    the loan had no disbursement.

        Dr funder_payable        amount
        Dr subsidy_income        subsidy
        Dr merchant_fee_income   fee
        Cr merchant_payable      financed
    """
    row = session.scalar(select(Disbursement).where(Disbursement.loan_id == loan_id).with_for_update())
    if row is None:
        return None
    lines = [Line.dr("funder_payable", row.amount_fen), Line.cr("merchant_payable", row.financed_fen)]
    if row.subsidy_fen:
        lines.append(Line.dr("subsidy_income", row.subsidy_fen))
    if row.merchant_fee_fen:
        lines.append(Line.dr("merchant_fee_income", row.merchant_fee_fen))
    post_entry(session, reason="disbursement.unwound", lines=lines, idempotency_key=f"{row.journal_ref}:unwound",
               business_date=on, loan_id=loan_id, memo=f"退货冲回放款 application {row.application_id}")
    if row.unwound_on is None:
        row.unwound_on = on
    session.flush()
    return row


def disburse_difference(session: Session, *, loan_id: int, amount_fen: int, ref: str, on: date) -> Paid | None:
    """An exchange for a pricier phone financed on the same loan (fenqi.aftersales.reprice): the loan's
    funder pays the merchant the difference, in full — like the extra down payment it replaces, no
    subsidy or platform fee is withheld from it. The loan's disbursement record grows by it, so that a
    later return unwinds the whole. Idempotent by `ref`; None when the loan has no disbursement.

        Dr merchant_payable   difference      (servicing's re-price credited it)
        Cr funder_payable     difference
    """
    row = session.scalar(select(Disbursement).where(Disbursement.loan_id == loan_id).with_for_update())
    if row is None:
        return None
    key = f"{row.journal_ref}:more:{ref}"[:120]
    if entry_posted(session, key):
        return Paid.of(row)
    if not isinstance(amount_fen, int) or amount_fen <= 0 or row.unwound_on is not None:
        raise InvalidInput.saying(f"贷款 {loan_id} 不能再放款 {amount_fen} 分",
                                  f"a further disbursement of {amount_fen} fen on loan {loan_id}")
    funder = session.get(Funder, row.funder_id)
    if funder is None or not consume_quota(session, funder, amount_fen, on):
        raise QuotaExhausted(funder.code if funder else str(row.funder_id))
    post_entry(session, reason="disbursement", idempotency_key=key, business_date=on, loan_id=loan_id,
               lines=[Line.dr("merchant_payable", amount_fen), Line.cr("funder_payable", amount_fen)],
               memo=f"换货差价放款 {funder.code} application {row.application_id}")
    row.financed_fen += amount_fen
    row.amount_fen += amount_fen
    row.price_fen += amount_fen
    session.flush()
    return Paid.of(row)


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
        raise InvalidInput("the statement ends before it starts", zh="结束日期不得早于开始日期",
                           en="The statement ends before it starts")
    merchant = get_merchant(session, merchant_id)
    rows = session.execute(
        select(Disbursement, Funder.code)
        .join(Funder, Funder.id == Disbursement.funder_id)
        .where(Disbursement.merchant_id == merchant_id, Disbursement.business_date >= start,
               Disbursement.business_date <= end)
        .order_by(Disbursement.business_date, Disbursement.id)
    )
    unwound = session.execute(
        select(Disbursement, Funder.code)
        .join(Funder, Funder.id == Disbursement.funder_id)
        .where(Disbursement.merchant_id == merchant_id, Disbursement.unwound_on >= start,
               Disbursement.unwound_on <= end)
    )
    # A return's reversal is a line of its own, on the day of the return, with the amounts negated.
    events = [(d.business_date, 1, d, code) for d, code in rows]
    events += [(d.unwound_on, -1, d, code) for d, code in unwound if d.unwound_on is not None]
    events.sort(key=lambda e: (e[0], e[2].id, -e[1]))
    lines, totals = [], dict.fromkeys(_AMOUNTS, 0)
    for day, sign, d, funder_code in events:
        values = {"price": d.price_fen, "down_payment": d.down_payment_fen, "financed": d.financed_fen,
                  "subsidy": d.subsidy_fen, "merchant_fee": d.merchant_fee_fen, "amount": d.amount_fen}
        values = {k: sign * v for k, v in values.items()}
        for k, v in values.items():
            totals[k] += v
        lines.append({"date": day.isoformat(), "application_id": d.application_id, "loan_id": d.loan_id,
                      "funder": funder_code, "returned": sign < 0,
                      **{k: fmt_yuan(from_fen(v)) for k, v in values.items()}})
    return Statement(merchant.id, merchant.name, start, end, lines, totals)
