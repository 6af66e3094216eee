"""Daily reconciliation (对账): the channel's statement against our payment orders and refunds.

Every statement line is matched by out_trade_no (payments) or out_refund_no (refunds) with what
our books say happened that day (China Standard Time, as the channels cut their statements):

- matched: both sides agree on the amount and that it happened;
- long (长款): the channel has money we have not booked → settle the order, or refund the payer;
- short (短款): we booked money the channel does not report → query the channel, reverse the booking;
- amount_mismatch / status_mismatch: both sides know it but disagree → investigate or record.

Each discrepancy carries a proposed action that finance approves or rejects (API/CLI); approving
`settle_order` or `mark_refund_succeeded` carries it out at once, the others are recorded for the
manual step they describe.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fenqi.kit.db import utcnow
from fenqi.kit.errors import NotFound
from fenqi.kit.log import log
from fenqi.kit.money import from_fen
from fenqi.payments.channels import CHANNELS, get_channel
from fenqi.payments.emulators.core import CST
from fenqi.payments.errors import ConfirmationRequired, ReconciliationItemDecided, SameApprover, UnknownChannel
from fenqi.payments.models import PaymentOrder, PaymentRefund, ReconciliationItem, ReconciliationRun
from fenqi.payments.platform_fees import expected_returns, stated_return
from fenqi.payments.polling import poll_order
from fenqi.payments.refunds import poll_refund
from fenqi.payments.service import find_order
from fenqi.payments.statement_parsers import PARSERS, Entry, alipay_period, bulk, fen

ACTIONS = {
    "settle_order": ("入账：按渠道结果确认订单已支付并入账", "Settle the order as paid and post it"),
    "refund_payer": ("原路退款：渠道收到的款项无对应订单", "Refund the payer: no order of ours matches"),
    "query_and_reverse": ("查询渠道；确认未收款则冲销入账", "Query the channel; reverse our booking if unpaid"),
    "investigate_amount": ("核查金额差异并调账", "Investigate the amount difference and adjust"),
    "mark_refund_succeeded": ("确认退款成功并记账", "Mark the refund succeeded and post the payout"),
    "record_refund": ("补记渠道侧退款", "Record the refund the channel made"),
    "query_refund": ("查询退款；确认失败则恢复", "Query the refund; restore it if it failed"),
}


class Ours(NamedTuple):
    """Our side of one payment (a tuple: a statement day may have a million)."""

    out_trade_no: str
    amount_fen: int
    status: str
    booked: bool
    paid_at: datetime | None = None


@dataclass
class Finding:
    category: str
    kind: str
    out_trade_no: str
    action: str
    channel_amount_fen: int | None = None
    our_amount_fen: int | None = None
    out_refund_no: str = ""
    detail: str = ""


@dataclass
class Report:
    channel: str
    day: date
    lines: int = 0
    matched: int = 0
    channel_total_fen: int = 0
    our_total_fen: int = 0
    findings: list[Finding] = field(default_factory=list)
    run_id: int | None = None
    covered: tuple[datetime, datetime] | None = None  # when the statement covers less than the day

    def counts(self) -> dict[str, int]:
        out = {"matched": self.matched, "long": 0, "short": 0, "amount_mismatch": 0, "status_mismatch": 0}
        for f in self.findings:
            out[f.category] += 1
        return out


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, CST)
    return start, start + timedelta(days=1)


def our_payments(session: Session, channel: str, day: date) -> dict[str, Any]:
    """Our payments of the day: out_trade_no → a row shaped like `Ours` (the rows themselves: a day
    may hold a million, and copying each into another object would cost as much as the query)."""
    start, end = day_bounds(day)
    rows = session.execute(
        select(PaymentOrder.out_trade_no, func.coalesce(PaymentOrder.paid_amount_fen, PaymentOrder.amount_fen)
               .label("amount_fen"), PaymentOrder.status, (PaymentOrder.settlement_key != "").label("booked"),
               PaymentOrder.paid_at)
        .where(PaymentOrder.channel == channel, PaymentOrder.paid_at >= start, PaymentOrder.paid_at < end,
               PaymentOrder.training.is_(False))  # practice orders are at no channel
    )
    return {r[0]: r for r in rows}


def _orders_by_no(session: Session, numbers: list[str]) -> dict[str, Ours]:
    found: dict[str, Ours] = {}
    for i in range(0, len(numbers), 500):
        rows = session.execute(select(PaymentOrder.out_trade_no, PaymentOrder.amount_fen, PaymentOrder.status,
                                      PaymentOrder.settlement_key)
                               .where(PaymentOrder.out_trade_no.in_(numbers[i:i + 500])))
        found.update({r[0]: Ours(r[0], r[1], r[2], bool(r[3])) for r in rows})
    return found


def _our_refunds(session: Session, channel: str, day: date) -> dict[str, tuple[str, int, str]]:
    """out_refund_no → (out_trade_no, amount, status) for refunds of this channel that succeeded on the
    day or are still processing (a processing one may show up on the channel's side)."""
    start, end = day_bounds(day)
    rows = session.execute(
        select(PaymentRefund.out_refund_no, PaymentOrder.out_trade_no, PaymentRefund.amount_fen, PaymentRefund.status,
               PaymentRefund.succeeded_at)
        .join(PaymentOrder, PaymentOrder.id == PaymentRefund.order_id)
        .where(PaymentOrder.channel == channel, PaymentRefund.status.in_(("succeeded", "processing")),
               PaymentOrder.training.is_(False))
        .where(((PaymentRefund.succeeded_at >= start) & (PaymentRefund.succeeded_at < end))
               | (PaymentRefund.status == "processing"))
    )
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def match(entries: list[Entry], ours: Mapping[str, Ours], others: Mapping[str, Ours],
          refunds: dict[str, tuple[str, int, str]], report: Report) -> None:
    """The pure matching step (no I/O), so that it can be measured and tested on its own."""
    seen: set[str] = set()
    seen_refunds: set[str] = set()
    add = report.findings.append
    matched = channel_total = 0  # locals, not attributes: this loop runs a million times
    for e in entries:
        if e.kind == "pay":
            channel_total += e.amount_fen
            seen.add(e.out_trade_no)
            mine = ours.get(e.out_trade_no) or others.get(e.out_trade_no)
            if mine is None:
                add(Finding("long", "pay", e.out_trade_no, "refund_payer", e.amount_fen, None, detail="no such order"))
            elif mine.status not in ("paid", "refunded"):
                same = mine.amount_fen == e.amount_fen
                add(Finding("long" if same else "amount_mismatch", "pay", e.out_trade_no,
                            "settle_order" if same else "refund_payer", e.amount_fen, mine.amount_fen,
                            detail=f"our order is {mine.status}"))
            elif mine.amount_fen != e.amount_fen:
                add(Finding("amount_mismatch", "pay", e.out_trade_no, "investigate_amount", e.amount_fen,
                            mine.amount_fen))
            elif e.out_trade_no not in ours:
                add(Finding("status_mismatch", "pay", e.out_trade_no, "investigate_amount", e.amount_fen,
                            mine.amount_fen, detail="we booked it on another day"))
            else:
                matched += 1
        else:
            channel_total -= e.amount_fen
            seen_refunds.add(e.out_refund_no)
            known = refunds.get(e.out_refund_no)
            if known is None:
                add(Finding("status_mismatch", "refund", e.out_trade_no, "record_refund", e.amount_fen, None,
                            e.out_refund_no, "the channel reports a refund we never made"))
            elif known[1] != e.amount_fen:
                add(Finding("amount_mismatch", "refund", e.out_trade_no, "investigate_amount", e.amount_fen, known[1],
                            e.out_refund_no))
            elif known[2] == "processing":
                add(Finding("status_mismatch", "refund", e.out_trade_no, "mark_refund_succeeded", e.amount_fen,
                            known[1], e.out_refund_no, "ours is still processing"))
            else:
                matched += 1
    report.lines += len(entries)
    report.matched += matched
    report.channel_total_fen += channel_total
    for no, mine in ours.items():
        report.our_total_fen += mine.amount_fen
        if no not in seen:
            add(Finding("short", "pay", no, "query_and_reverse", None, mine.amount_fen,
                        detail="" if mine.booked else "not booked either"))
    for refund_no, (trade_no, amount, status) in refunds.items():
        if status == "succeeded":
            report.our_total_fen -= amount
            if refund_no not in seen_refunds:
                add(Finding("short", "refund", trade_no, "query_refund", None, amount, refund_no))


def reconcile_entries(session: Session, channel: str, day: date, entries: list[Entry],
                      ours: Mapping[str, Ours] | None = None) -> Report:
    report = Report(channel, day)
    if ours is None:
        ours = our_payments(session, channel, day)
    missing = sorted({e.out_trade_no for e in entries if e.kind == "pay" and e.out_trade_no not in ours})
    match(entries, ours, _orders_by_no(session, missing), _our_refunds(session, channel, day), report)
    return report


def reconcile(session: Session, channel: str, day: date, *, content: bytes | None = None,
              user_id: int | None = None) -> Report:
    """Fetch (unless given) and parse the statement, match it, store the run and its findings. Running
    a day again updates that day's run (`user_id`: who ran it; they cannot approve its actions)."""
    if channel not in CHANNELS:
        raise UnknownChannel(channel)
    raw = content if content is not None else get_channel(channel).fetch_statement(day)
    with bulk(), ThreadPoolExecutor(1) as pool:
        # The database reads our side while this thread parses the statement.
        ours = pool.submit(our_payments, session, channel, day)
        entries = PARSERS[channel](raw)
        covered = statement_period(channel, raw, day)
        mine = ours.result()
        if covered is not None:  # only what the statement covers: nothing of ours outside it is "short"
            mine = {no: r for no, r in mine.items() if r.paid_at is not None
                    and covered[0] <= _aware(r.paid_at) < covered[1]}
        report = reconcile_entries(session, channel, day, entries, mine)
        report.covered = covered
    if channel == "alipay":
        check_platform_fees(session, day, entries, report, covered)
    store(session, report, user_id=user_id)
    log.info("payments.reconcile.done", channel=channel, day=day.isoformat(), **report.counts())
    return report


_HB_NOTE = re.compile(r"花呗分期(\d+)期 商家承担手续费(-?\d+\.\d{2}) 用户承担手续费(-?\d+\.\d{2})")
HbFee = tuple[int, int, int]  # periods, the merchant's part, the shopper's part (fen)


def _stated_fee(note: str) -> HbFee | None:
    found = _HB_NOTE.fullmatch(note)
    if found is None:
        return None
    return int(found[1]), fen(found[2]), fen(found[3])


def _expected_fees(session: Session, numbers: list[str] | None, bounds: tuple[datetime, datetime]
                   ) -> dict[str, HbFee | None]:
    """Our 花呗分期 orders, by number (None for an order paid without it): those paid within the
    bounds, or, given `numbers`, exactly those orders."""
    cols = (PaymentOrder.out_trade_no, PaymentOrder.hb_fq_num, PaymentOrder.hb_fq_seller_percent,
            PaymentOrder.hb_fee_fen)
    if numbers is None:
        batches = [select(*cols).where(PaymentOrder.channel == "alipay", PaymentOrder.hb_fq_num.is_not(None),
                                       PaymentOrder.paid_at >= bounds[0], PaymentOrder.paid_at < bounds[1],
                                       PaymentOrder.training.is_(False))]
    else:
        batches = [select(*cols).where(PaymentOrder.out_trade_no.in_(numbers[i:i + 500]))
                   for i in range(0, len(numbers), 500)]
    out: dict[str, HbFee | None] = {}
    for q in batches:
        for no, term, percent, fee in session.execute(q):
            merchant = fee * percent // 100
            out[no] = None if not term else (term, merchant, fee - merchant)
    return out


def _fee_text(fee: HbFee | None) -> str:
    if fee is None:
        return "无花呗分期"
    return f"{fee[0]}期 商家承担{from_fen(fee[1])} 用户承担{from_fen(fee[2])}"


def check_platform_fees(session: Session, day: date, entries: list[Entry], report: Report,
                        covered: tuple[datetime, datetime] | None = None) -> None:
    """花呗分期 fees: every payment line's stated periods and fee parts (备注) against what our fee table
    expected for the order; a difference is an amount mismatch of kind "fee" (the amounts: the
    merchant's part, which is what the channel keeps from the settlement)."""
    stated = {e.out_trade_no: _stated_fee(e.note) for e in entries if e.kind == "pay" and e.note}
    expected = _expected_fees(session, None, covered or day_bounds(day))
    paid_lines = {e.out_trade_no for e in entries if e.kind == "pay"}
    others = sorted(no for no in stated if no not in expected)
    known = {**_expected_fees(session, others, day_bounds(day)), **expected} if others else expected
    for no in sorted((set(expected) & paid_lines) | set(stated)):
        if no not in known:
            continue  # no order of ours: already a 长款
        ours, theirs = known[no], stated.get(no)
        if ours != theirs:
            detail = f"花呗分期手续费不符：渠道 {_fee_text(theirs)}，我方 {_fee_text(ours)}"
            report.findings.append(Finding("amount_mismatch", "fee", no, "investigate_amount",
                                           None if theirs is None else theirs[1], None if ours is None else ours[1],
                                           detail=detail))
    _check_returned_fees(session, entries, report)


def _check_returned_fees(session: Session, entries: list[Entry], report: Report) -> None:
    """Refunds: the 花呗分期 fee each refund line says was given back against what our rule expects
    (fenqi.payments.platform_fees); a difference is an amount mismatch of kind "fee" (with the refund's number)."""
    refunds = [e for e in entries if e.kind == "refund"]
    expected = expected_returns(session, sorted({e.out_refund_no for e in refunds}))
    for e in refunds:
        theirs, ours = stated_return(e.note), expected.get(e.out_refund_no, 0)
        if theirs != ours:
            report.findings.append(Finding(
                "amount_mismatch", "fee", e.out_trade_no, "investigate_amount", theirs, ours,
                e.out_refund_no, f"花呗分期手续费退回不符：渠道 {from_fen(theirs)}，我方 {from_fen(ours)}"))


def statement_period(channel: str, raw: bytes, day: date) -> tuple[datetime, datetime] | None:
    """The part of the day the statement says it covers, when that is less than the whole day (an
    account opened that day); None for the whole day. WeChat Pay's bill does not state it: whole days."""
    if channel != "alipay":
        return None
    period = alipay_period(raw)
    start, end = day_bounds(day)
    if period is None or (period[0] <= start and period[1] >= end):
        return None
    return max(period[0], start), min(max(period[1], start), end)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _run_of(session: Session, channel: str, day: date) -> ReconciliationRun | None:
    return session.scalar(select(ReconciliationRun).where(ReconciliationRun.channel == channel,
                                                          ReconciliationRun.day == day).with_for_update())


def _item_key(kind: str, out_trade_no: str, out_refund_no: str) -> tuple[str, str, str]:
    return kind, out_trade_no, out_refund_no


def store(session: Session, report: Report, *, user_id: int | None = None) -> None:
    """The day's run, created once (unique channel + day) and updated by every re-run: a finding seen
    before keeps its item (and any decision on it), a new one is added, a proposed one no longer found
    is marked resolved. Nothing is duplicated."""
    run = _run_of(session, report.channel, report.day)
    if run is None:
        try:
            with session.begin_nested():
                run = ReconciliationRun(channel=report.channel, day=report.day, runs=0)
                session.add(run)
                session.flush()
        except IntegrityError:  # the same day reconciled at this moment by someone else
            run = _run_of(session, report.channel, report.day)
            assert run is not None
    run.lines, run.matched, run.discrepancies = report.lines, report.matched, len(report.findings)
    run.channel_total_fen, run.our_total_fen = report.channel_total_fen, report.our_total_fen
    run.run_by, run.runs, run.updated_at = user_id, run.runs + 1, utcnow()
    session.flush()
    report.run_id = run.id
    known = {_item_key(i.kind, i.out_trade_no, i.out_refund_no): i
             for i in session.scalars(select(ReconciliationItem).where(ReconciliationItem.run_id == run.id))}
    found: set[tuple[str, str, str]] = set()
    for f in report.findings:
        key = _item_key(f.kind, f.out_trade_no, f.out_refund_no)
        if key in found:
            continue  # a statement listing one trade twice: one item
        found.add(key)
        item = known.get(key)
        if item is None:
            session.add(ReconciliationItem(
                run_id=run.id, category=f.category, kind=f.kind, out_trade_no=f.out_trade_no,
                out_refund_no=f.out_refund_no, channel_amount_fen=f.channel_amount_fen,
                our_amount_fen=f.our_amount_fen, detail=f.detail[:200], action=f.action, proposed_by=user_id))
        elif item.action_status in ("proposed", "resolved"):
            item.category, item.action, item.detail = f.category, f.action, f.detail[:200]
            item.channel_amount_fen, item.our_amount_fen = f.channel_amount_fen, f.our_amount_fen
            item.action_status, item.proposed_by = "proposed", user_id
    for key, item in known.items():
        if key not in found and item.action_status == "proposed":
            item.action_status = "resolved"
    session.flush()


def runs_and_items(session: Session, *, channel: str = "", day: date | None = None, any_day: bool = True,
                   category: str = "", status: str = "") -> tuple[list[ReconciliationRun], list[ReconciliationItem]]:
    """The 30 latest runs (of a channel, of a day unless `any_day`) and their discrepancies of a category and
    action status, newest first (at most 500): what finance reviews and acts on."""
    runs_q = select(ReconciliationRun).order_by(ReconciliationRun.day.desc(), ReconciliationRun.id.desc())
    if channel:
        runs_q = runs_q.where(ReconciliationRun.channel == channel)
    if not any_day:
        runs_q = runs_q.where(ReconciliationRun.day == day)
    runs = list(session.scalars(runs_q.limit(30)))
    items_q = select(ReconciliationItem).where(ReconciliationItem.run_id.in_([r.id for r in runs] or [0]))
    if category:
        items_q = items_q.where(ReconciliationItem.category == category)
    if status:
        items_q = items_q.where(ReconciliationItem.action_status == status)
    return runs, list(session.scalars(items_q.order_by(ReconciliationItem.id.desc()).limit(500)))


def describe(item: ReconciliationItem, lang: str = "zh") -> str:
    """What approving the item will do, for the confirmation step."""
    text = ACTIONS.get(item.action, (item.action, item.action))[0 if lang == "zh" else 1]
    return f"#{item.id} {item.out_trade_no} {text}"


def decide(session: Session, item_id: int, *, approve: bool, user_id: int | None, note: str = "",
           confirm: bool = False) -> ReconciliationItem:
    """Finance's decision on a proposed action; approving an automatable one carries it out. An approval
    needs a second person (not whoever ran the reconciliation that proposed it) and an explicit
    confirmation (`confirm=True`, after being shown what it will do)."""
    item = session.get(ReconciliationItem, item_id, with_for_update=True)
    if item is None:
        raise NotFound.saying(f"对账差异 {item_id}", f"reconciliation item {item_id}")
    if item.action_status != "proposed":
        raise ReconciliationItemDecided(str(item_id))
    if approve:
        if item.proposed_by is not None and item.proposed_by == user_id:
            raise SameApprover()
        if not confirm:
            raise ConfirmationRequired(zh=f"请确认后再批准：{describe(item, 'zh')}",
                                       en=f"Confirm before approving: {describe(item, 'en')}")
    item.action_status = "approved" if approve else "rejected"
    item.decided_by, item.decided_at, item.note = user_id, utcnow(), note[:500]
    if approve:
        _carry_out(session, item)
    session.flush()
    return item


def _carry_out(session: Session, item: ReconciliationItem) -> None:
    if item.action == "settle_order":
        order = find_order(session, item.out_trade_no)
        if order is not None:
            # Through the channel's own answer, not the statement line: the same path as polling.
            poll_order(session, order)
    elif item.action == "mark_refund_succeeded":
        refund = session.scalar(select(PaymentRefund).where(PaymentRefund.out_refund_no == item.out_refund_no))
        if refund is not None:
            poll_refund(session, refund)


def report_json(report: Report) -> dict[str, object]:
    def y(fen: int | None) -> str | None:
        return None if fen is None else str(from_fen(fen))

    return {
        "channel": report.channel, "date": report.day.isoformat(), "run_id": report.run_id, "lines": report.lines,
        "counts": report.counts(), "channel_total": y(report.channel_total_fen), "our_total": y(report.our_total_fen),
        "covered": None if report.covered is None else [t.isoformat() for t in report.covered],
        "discrepancies": [
            {"category": f.category, "kind": f.kind, "out_trade_no": f.out_trade_no,
             "out_refund_no": f.out_refund_no or None, "channel_amount": y(f.channel_amount_fen),
             "our_amount": y(f.our_amount_fen), "detail": f.detail, "action": f.action,
             "action_text": {"zh": ACTIONS[f.action][0], "en": ACTIONS[f.action][1]}}
            for f in report.findings
        ],
    }


def item_json(item: ReconciliationItem) -> dict[str, object]:
    return {"id": item.id, "run_id": item.run_id, "category": item.category, "kind": item.kind,
            "out_trade_no": item.out_trade_no, "out_refund_no": item.out_refund_no or None,
            "channel_amount": None if item.channel_amount_fen is None else str(from_fen(item.channel_amount_fen)),
            "our_amount": None if item.our_amount_fen is None else str(from_fen(item.our_amount_fen)),
            "action": item.action, "action_status": item.action_status, "detail": item.detail,
            "proposed_by": item.proposed_by, "decided_by": item.decided_by}
