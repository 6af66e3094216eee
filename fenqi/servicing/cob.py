"""Close-of-business (日终批处理): set-based SQL over chunks of loan ids.

One run closes one business date D and then advances the business date to D + 1. The loans are cut
into chunks of consecutive ids (`cob_chunk`); each chunk is closed in one transaction by a fixed
sequence of INSERT ... SELECT / UPDATE statements over the whole chunk:

1. due       loans whose current period ends on D: the rest of the period's interest and fee is
             accrued, the period's interest and fee move from accrued to receivable, the installment
             becomes due and the loan moves to its next period;
2. credit    loans with a credit balance and something due: the credit is applied (the repayment
             waterfall; a handful of loans, done per loan in Python);
3. penalty   loans with principal overdue beyond the grace days: a day of penalty interest, and a late
             fee once per installment, both within the APR-cap budget;
4. write-off loans `write_off_days` past due: every receivable and accrual to write-off expense;
5. accrual   every open loan: the day's interest and fee accrual, the APR-cap budget, days past due,
             bucket and status, and `cob_date = D` — the one statement that touches every loan row.

Idempotency: every statement only touches loans with `cob_date < D`, and the last one sets
`cob_date = D` in the same transaction, so a loan is closed at most once per date whatever happens to
the run; journal entries carry unique keys per chunk attempt. A killed run leaves whole chunks either
done or untouched; running it again closes the chunks still pending. How chunks are dispatched (one
procrastinate job per chunk on PostgreSQL, in turn in-process on SQLite) is fenqi.servicing.cob_runs.

Arithmetic is integer-only and mirrors fenqi.servicing.rules, so SQLite and PostgreSQL give identical
results. Only `day_diff` differs in spelling between the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Date, bindparam, text
from sqlalchemy.orm import Session

from fenqi.kit.db import utcnow
from fenqi.ledger import bulk
from fenqi.ledger.accounts import Account, Reason
from fenqi.servicing.cob_steps import run_chunk_steps
from fenqi.servicing.models import CobChunk
from fenqi.servicing.rules import PPB
from fenqi.servicing.service import apply_credit, get_loan, installments

OPEN = "('active', 'overdue')"


class CobInterrupted(RuntimeError):
    """Raised by the test hook `stop_after` to simulate a run killed midway."""


def day_diff(dialect: str, later: str, earlier: str) -> str:
    """SQL for the whole days from `earlier` to `later` (dates)."""
    if dialect == "postgresql":
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def _min(a: str, b: str) -> str:
    return f"(CASE WHEN ({a}) < ({b}) THEN ({a}) ELSE ({b}) END)"


def _max0(a: str) -> str:
    return f"(CASE WHEN ({a}) > 0 THEN ({a}) ELSE 0 END)"


def _bucket_case(dpd: str, buckets: list[tuple[int, str]]) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {}
    whens = []
    for i, (lower, label) in enumerate(sorted(buckets, reverse=True)):
        params[f"bucket{i}"] = label
        whens.append(f"WHEN {dpd} >= {int(lower)} THEN :bucket{i}")
    return f"(CASE {' '.join(whens)} END)", params


@dataclass
class ChunkStats:
    loans: int = 0
    due: int = 0
    credit: int = 0
    penalty: int = 0
    write_off: int = 0
    steps: dict[str, int] = field(default_factory=dict)  # other domains' chunk steps (cob_steps)


@dataclass
class _Chunk:
    """One chunk being closed: its statements' shared parameters and the entries it has opened."""

    session: Session
    dialect: str
    chunk_id: int
    attempt: int
    lo: int
    hi: int
    day: date
    entries: dict[str, int] = field(default_factory=dict)

    @property
    def cond(self) -> str:
        # A training store's practice loans are never closed: no accrual, no ageing, out of every report.
        return f"l.id BETWEEN :lo AND :hi AND l.status IN {OPEN} AND l.cob_date < :d AND l.training = false"

    def params(self, **extra: Any) -> dict[str, Any]:
        return {"lo": self.lo, "hi": self.hi, "d": self.day, "cid": self.chunk_id, **extra}

    def exec(self, sql: str, **extra: Any) -> int:
        result: Any = self.session.execute(_sql(sql), self.params(**extra))
        return int(result.rowcount or 0)

    def scalar(self, sql: str, **extra: Any) -> Any:
        return self.session.execute(_sql(sql), self.params(**extra)).scalar()

    def entry(self, reason: str) -> int:
        """The chunk's journal entry for one reason (created on first use)."""
        if reason not in self.entries:
            key = f"cob:{self.day.isoformat()}:{reason}:c{self.chunk_id}:a{self.attempt}"
            self.entries[reason] = bulk.open_entry(self.session, idempotency_key=key, reason=reason,
                                                   business_date=self.day, memo=f"COB loans {self.lo}-{self.hi}")
        return self.entries[reason]

    def post(self, reason: str, account: str, source: str, *, loan: str = "loan_id", debit: str = "0",
             credit: str = "0", **extra: Any) -> int:
        """Lines of the chunk's entry for `reason`, one per row of `source` (through the ledger)."""
        return bulk.post_lines(self.session, self.entry(reason), account=account, source=source,
                               params=self.params(**extra), loan=loan, debit=debit, credit=credit)

    def dd(self, later: str, earlier: str) -> str:
        return day_diff(self.dialect, later, earlier)


@lru_cache(maxsize=1024)
def _sql(sql: str) -> Any:
    """A text statement whose :d parameter is a date (bound as a date on both databases)."""
    stmt = text(sql)
    return stmt.bindparams(bindparam("d", type_=Date)) if ":d" in sql else stmt


def _scratch(c: _Chunk, kind: str, where: str = "") -> str:
    return f"cob_scratch WHERE chunk_id = :cid AND kind = '{kind}'" + (f" AND {where}" if where else "")


def _post_from_scratch(c: _Chunk, reason: str, kind: str, column: str, debit: str, credit: str) -> None:
    """Per-loan lines Dr `debit` / Cr `credit` of each scratch row's `column` (when positive)."""
    if not c.scalar(f"SELECT 1 FROM {_scratch(c, kind, f'{column} > 0')} LIMIT 1"):
        return
    src = f"cob_scratch WHERE chunk_id = :cid AND kind = '{kind}' AND {column} > 0"
    c.post(reason, debit, src, debit=column)
    c.post(reason, credit, src, credit=column)


def _accrual_target(c: _Chunk, total: str) -> str:
    """round_half_up(total · d / n), d = days since the period start (clamped to 0..n), n = period days."""
    n = c.dd("l.cur_due_date", "l.cur_period_start")
    d = c.dd(":d", "l.cur_period_start")
    d = _min(_max0(d), n)
    return f"(CASE WHEN {n} <= 0 THEN {total} ELSE ({total} * {d} * 2 + {n}) / (2 * {n}) END)"


# --- the steps -------------------------------------------------------------------------------------


def _step_due(c: _Chunk) -> int:
    """Periods ending on (or before) D: finish their accrual, move it to receivable, start the next."""
    n = c.exec(
        "INSERT INTO cob_scratch (chunk_id, kind, loan_id, a, b, c, d) "
        "SELECT :cid, 'due', l.id, l.cur_interest_fen - l.interest_accrued_fen, l.cur_fee_fen - l.fee_accrued_fen, "
        f"l.cur_interest_fen, l.cur_fee_fen FROM loan l WHERE {c.cond} AND l.cur_due_date <= :d"
    )
    if not n:
        return 0
    A = Account
    _post_from_scratch(c, Reason.INTEREST_ACCRUAL, "due", "a", A.INTEREST_ACCRUED, A.INTEREST_INCOME)
    _post_from_scratch(c, Reason.FEE_ACCRUAL, "due", "b", A.FEE_ACCRUED, A.FEE_INCOME)
    _post_from_scratch(c, Reason.INSTALLMENT_DUE, "due", "c", A.INTEREST_RECEIVABLE, A.INTEREST_ACCRUED)
    _post_from_scratch(c, Reason.INSTALLMENT_DUE, "due", "d", A.FEE_RECEIVABLE, A.FEE_ACCRUED)
    in_scratch = "SELECT loan_id FROM cob_scratch WHERE chunk_id = :cid AND kind = 'due'"
    c.exec(
        "UPDATE installment SET status = 'due' WHERE status = 'pending' AND due_date <= :d "
        f"AND loan_id IN ({in_scratch})"
    )
    # An installment with nothing left to pay (all paid early) is paid the moment it falls due.
    c.exec(
        "UPDATE installment SET status = 'paid', paid_on = :d WHERE status = 'due' AND due_date <= :d "
        "AND principal_fen = paid_principal_fen AND interest_fen = paid_interest_fen AND fee_fen = paid_fee_fen "
        f"AND loan_id IN ({in_scratch})"
    )
    oldest = "(SELECT MIN(i.due_date) FROM installment i WHERE i.loan_id = loan.id AND i.status = 'due')"
    nxt = (
        "SELECT {col} FROM installment i "
        "WHERE i.loan_id = loan.id AND i.period = loan.cur_period + 1 AND i.status = 'pending'"
    )
    c.exec(
        "UPDATE loan SET "
        "interest_receivable_fen = interest_receivable_fen + cur_interest_fen, "
        "fee_receivable_fen = fee_receivable_fen + cur_fee_fen, "
        "interest_accrued_fen = 0, fee_accrued_fen = 0, "
        # Unpaid penalty keeps the age of the arrears it was charged on (see refresh_delinquency).
        f"oldest_unpaid_due = CASE WHEN penalty_receivable_fen > 0 AND oldest_unpaid_due IS NOT NULL "
        f"AND ({oldest} IS NULL OR oldest_unpaid_due < {oldest}) THEN oldest_unpaid_due ELSE {oldest} END, "
        "cur_period = cur_period + 1, cur_period_start = cur_due_date, "
        f"cur_due_date = ({nxt.format(col='i.due_date')}), "
        f"cur_interest_fen = COALESCE(({nxt.format(col='i.interest_fen - i.paid_interest_fen')}), 0), "
        f"cur_fee_fen = COALESCE(({nxt.format(col='i.fee_fen - i.paid_fee_fen')}), 0) "
        f"WHERE id IN ({in_scratch})"
    )
    return n


def _step_credit(c: _Chunk) -> int:
    """Credit balances applied to what is due (per loan: only loans that have both)."""
    ids = (
        c.session.execute(
            _sql(
                f"SELECT l.id FROM loan l WHERE {c.cond} AND l.credit_balance_fen > 0 "
                "AND (l.oldest_unpaid_due IS NOT NULL OR l.penalty_receivable_fen > 0) ORDER BY l.id"
            ),
            c.params(),
        )
        .scalars()
        .all()
    )
    for loan_id in ids:
        loan = get_loan(c.session, loan_id)
        apply_credit(
            c.session, loan, installments(c.session, loan_id), c.day, f"cob:{c.day.isoformat()}:credit:{loan_id}"
        )
    c.session.flush()
    return len(ids)


def _step_penalty(c: _Chunk) -> int:
    """A day of penalty interest on principal overdue beyond the grace days, and late fees, within the cap."""
    late = f"{c.dd(':d', 'i.due_date')} > l.grace_days"
    base = (
        "COALESCE((SELECT CAST(SUM(i.principal_fen - i.paid_principal_fen) AS BIGINT) FROM installment i "
        f"WHERE i.loan_id = l.id AND i.status = 'due' AND {late}), 0)"
    )
    new_late = (
        "(SELECT COUNT(*) FROM installment i WHERE i.loan_id = l.id AND i.status = 'due' "
        f"AND i.late_fee_charged = FALSE AND {late})"
    )
    n = c.exec(
        "INSERT INTO cob_scratch (chunk_id, kind, loan_id, a, b, c, d) "
        f"SELECT :cid, 'pen', l.id, ({base} * l.penalty_rate_ppb * 2 + {PPB}) / {2 * PPB}, "
        f"{new_late} * l.late_fee_fen, {_max0(f'l.cap_budget_nfen / {PPB} - l.penalty_charged_fen')}, 0 "
        f"FROM loan l WHERE {c.cond} AND l.oldest_unpaid_due IS NOT NULL "
        f"AND {c.dd(':d', 'l.oldest_unpaid_due')} > l.grace_days"
    )
    if not n:
        return 0
    # Within the APR-cap room (c): penalty interest first, then the late fee.
    c.exec(f"UPDATE cob_scratch SET a = {_min('a', 'c')} WHERE chunk_id = :cid AND kind = 'pen'")
    c.exec(f"UPDATE cob_scratch SET b = {_min('b', 'c - a')} WHERE chunk_id = :cid AND kind = 'pen'")
    A = Account
    _post_from_scratch(c, Reason.PENALTY, "pen", "a", A.PENALTY_RECEIVABLE, A.PENALTY_INCOME)
    _post_from_scratch(c, Reason.LATE_FEE, "pen", "b", A.PENALTY_RECEIVABLE, A.PENALTY_INCOME)
    c.exec(
        "UPDATE loan SET penalty_receivable_fen = penalty_receivable_fen + "
        "(SELECT s.a + s.b FROM cob_scratch s WHERE s.chunk_id = :cid AND s.kind = 'pen' AND s.loan_id = loan.id), "
        "penalty_charged_fen = penalty_charged_fen + "
        "(SELECT s.a + s.b FROM cob_scratch s WHERE s.chunk_id = :cid AND s.kind = 'pen' AND s.loan_id = loan.id) "
        "WHERE id IN (SELECT loan_id FROM cob_scratch WHERE chunk_id = :cid AND kind = 'pen' AND a + b > 0)"
    )
    c.exec(
        "UPDATE installment SET late_fee_charged = TRUE WHERE status = 'due' AND late_fee_charged = FALSE "
        "AND loan_id IN (SELECT loan_id FROM cob_scratch WHERE chunk_id = :cid AND kind = 'pen') "
        f"AND {c.dd(':d', 'installment.due_date')} > (SELECT l.grace_days FROM loan l WHERE l.id = installment.loan_id)"
    )
    return n


_WRITE_OFF_PARTS = (
    (Account.PRINCIPAL_RECEIVABLE, "principal_outstanding_fen"),
    (Account.INTEREST_RECEIVABLE, "interest_receivable_fen"),
    (Account.INTEREST_ACCRUED, "interest_accrued_fen"),
    (Account.FEE_RECEIVABLE, "fee_receivable_fen"),
    (Account.FEE_ACCRUED, "fee_accrued_fen"),
    (Account.PENALTY_RECEIVABLE, "penalty_receivable_fen"),
)


def _step_write_off(c: _Chunk, days: int, buckets: list[tuple[int, str]]) -> int:
    total = " + ".join(f"l.{col}" for _, col in _WRITE_OFF_PARTS)
    dpd = f"({c.dd(':d', 'l.oldest_unpaid_due')} + 1)"
    n = c.exec(
        "INSERT INTO cob_scratch (chunk_id, kind, loan_id, a, b, c, d) "
        f"SELECT :cid, 'wo', l.id, {total}, {dpd}, 0, 0 FROM loan l "
        f"WHERE {c.cond} AND l.oldest_unpaid_due IS NOT NULL AND {dpd} >= :days",
        days=days,
    )
    if not n:
        return 0
    in_scratch = "SELECT loan_id FROM cob_scratch WHERE chunk_id = :cid AND kind = 'wo'"
    if c.scalar(f"SELECT 1 FROM {_scratch(c, 'wo', 'a > 0')} LIMIT 1"):
        c.post(Reason.WRITE_OFF, Account.WRITE_OFF_EXPENSE, _scratch(c, "wo", "a > 0"), debit="a")
        for account, col in _WRITE_OFF_PARTS:
            c.post(Reason.WRITE_OFF, account, f"loan l WHERE l.{col} > 0 AND l.id IN ({in_scratch})", loan="l.id",
                   credit=f"l.{col}")
    c.exec(
        f"UPDATE installment SET status = 'cancelled' WHERE status IN ('pending', 'due') AND loan_id IN ({in_scratch})"
    )
    bucket, bparams = _bucket_case("s.b", buckets)
    sub = "(SELECT {x} FROM cob_scratch s WHERE s.chunk_id = :cid AND s.kind = 'wo' AND s.loan_id = loan.id)"
    c.exec(
        "UPDATE loan SET "
        f"written_off_fen = {sub.format(x='s.a')}, dpd = {sub.format(x='s.b')}, bucket = {sub.format(x=bucket)}, "
        + ", ".join(f"{col} = 0" for _, col in _WRITE_OFF_PARTS)
        + ", status = 'written_off', closed_on = :d, cob_date = :d, cur_due_date = NULL, cur_interest_fen = 0, "
        f"cur_fee_fen = 0 WHERE id IN ({in_scratch})",
        **bparams,
    )
    return n


def _step_accrual(c: _Chunk, buckets: list[tuple[int, str]]) -> int:
    """The day's accrual for every open loan, and its delinquency figures; closes the loan for D."""
    target_i, target_f = _accrual_target(c, "l.cur_interest_fen"), _accrual_target(c, "l.cur_fee_fen")
    for reason, target, col, debit in (
        (Reason.INTEREST_ACCRUAL, target_i, "interest_accrued_fen", Account.INTEREST_ACCRUED),
        (Reason.FEE_ACCRUAL, target_f, "fee_accrued_fen", Account.FEE_ACCRUED),
    ):
        where = f"{c.cond} AND l.cur_due_date IS NOT NULL AND {target} - l.{col} > 0"
        if c.scalar(f"SELECT 1 FROM loan l WHERE {where} LIMIT 1"):
            c.post(reason, debit, f"loan l WHERE {where}", loan="l.id", debit=f"{target} - l.{col}")
    # Unpaid at the close of its due date: 1 day past due (fenqi.servicing.service.days_past_due).
    dpd = f"(CASE WHEN oldest_unpaid_due IS NULL THEN 0 ELSE {_max0(c.dd(':d', 'oldest_unpaid_due') + ' + 1')} END)"
    bucket, bparams = _bucket_case(dpd, buckets)
    # Column references without the `l.` alias: UPDATE cannot alias its target portably.
    t_i, t_f = (t.replace("l.", "") for t in (target_i, target_f))
    return c.exec(
        "UPDATE loan SET "
        f"interest_accrued_fen = CASE WHEN cur_due_date IS NULL THEN interest_accrued_fen ELSE {t_i} END, "
        f"fee_accrued_fen = CASE WHEN cur_due_date IS NULL THEN fee_accrued_fen ELSE {t_f} END, "
        "cap_budget_nfen = cap_budget_nfen + principal_outstanding_fen * cap_headroom_ppb / 365, "
        f"dpd = {dpd}, bucket = {bucket}, "
        f"status = CASE WHEN {dpd} > 0 THEN 'overdue' ELSE 'active' END, cob_date = :d "
        f"WHERE {c.cond.replace('l.', '')}",
        **bparams,
    )


def _finish_entries(c: _Chunk) -> None:
    """The platform side of the chunk's accrual and penalty entries: one income line per entry."""
    income = {Reason.INTEREST_ACCRUAL: Account.INTEREST_INCOME, Reason.FEE_ACCRUAL: Account.FEE_INCOME}
    for reason, e in c.entries.items():
        if reason in income:
            # The due step posts both sides per loan; the accrual step only the loans' debits, offset here.
            bulk.balance_with(c.session, e, account=income[Reason(reason)])


def close_chunk(
    session: Session, chunk: CobChunk, day: date, *, buckets: list[tuple[int, str]], write_off_days: int
) -> ChunkStats:
    """Close business date `day` for the loans of one chunk, inside the caller's transaction."""
    chunk.attempts += 1
    session.flush()
    c = _Chunk(session, session.get_bind().dialect.name, chunk.id, chunk.attempts, chunk.lo_id, chunk.hi_id, day)
    stats = ChunkStats()
    # One pass to learn which of the selective steps have anything to do in this chunk.
    due, credit, overdue = (
        int(x or 0)
        for x in c.session.execute(
            _sql(
                "SELECT SUM(CASE WHEN l.cur_due_date <= :d THEN 1 ELSE 0 END), "
                "SUM(CASE WHEN l.credit_balance_fen > 0 THEN 1 ELSE 0 END), "
                f"SUM(CASE WHEN l.oldest_unpaid_due IS NOT NULL THEN 1 ELSE 0 END) FROM loan l WHERE {c.cond}"
            ),
            c.params(),
        ).one()
    )
    stats.due = _step_due(c) if due else 0
    stats.credit = _step_credit(c) if credit else 0
    if overdue or stats.due:
        stats.penalty = _step_penalty(c)
        stats.write_off = _step_write_off(c, write_off_days, buckets)
    stats.loans = _step_accrual(c, buckets) + stats.write_off
    _finish_entries(c)
    if due or overdue or stats.due:  # the steps that use the scratch table
        c.exec("DELETE FROM cob_scratch WHERE chunk_id = :cid")
    stats.steps = run_chunk_steps(session, day, chunk.lo_id, chunk.hi_id)
    chunk.status, chunk.loans, chunk.finished_at = "done", stats.loans, utcnow()
    session.flush()
    return stats
