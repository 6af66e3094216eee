"""The partner scorecard: six criteria, each of measured indicators (from our own payment, decision, funding
and after-sales data, read through those domains' ports) and recorded ones (entered with source and date).

Scoring, within a role (funders are compared with funders, payment platforms with payment platforms): each
indicator scores 0–100 by where its value lies between the worst and the best partner (all equal: 100);
a criterion scores the mean of its indicators that have a value; the total is the weighted mean of the
criteria that have a score, with the business's weights. Partners without any score rank last.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.aftersales.partner_facts import complaints
from fenqi.funding.partner_facts import funder_costs
from fenqi.kit.clock import business_date
from fenqi.origination.partner_facts import RoutedApplication, loan_funders, routed_applications
from fenqi.partners.channel_measures import COMPLAINT_CATEGORIES, complaints_by_channel, downtime_windows, minutes
from fenqi.partners.errors import InvalidPartner
from fenqi.partners.indicators import BY_KEY, CRITERIA, INDICATORS
from fenqi.partners.models import Partner, PartnerContract, RecordedIndicator, ScoreWeights
from fenqi.partners.stats import median, percentile
from fenqi.payments.partner_facts import channel_facts, loan_payment_channels, platform_installment_facts
from fenqi.risk.partner_facts import decision_times

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_DAYS = 90
ONE = Decimal(1)
CENT = Decimal("0.01")
TENTH = Decimal("0.1")


@dataclass(frozen=True, slots=True)
class Value:
    key: str
    value: Decimal | None
    n: int | None  # the sample size (None: a recorded indicator or a contract term)
    basis: str  # the time window, or the source and date, or the contract


@dataclass(slots=True)
class Row:
    code: str
    name: str
    role: str
    status: str
    values: dict[str, Value]
    scores: dict[str, Decimal] = field(default_factory=dict)  # indicator → 0..100
    criteria: dict[str, Decimal | None] = field(default_factory=dict)
    total: Decimal | None = None
    rank: int = 0


@dataclass(frozen=True, slots=True)
class Sensitivity:
    criterion: str
    ranks: dict[str, tuple[int, int, int]]  # partner → rank at −10%, as set, +10% of this weight


@dataclass(frozen=True, slots=True)
class Card:
    business: str
    weights: dict[str, Decimal]
    start: date
    end: date
    groups: dict[str, list[Row]]  # role → rows in rank order
    sensitivity: dict[str, list[Sensitivity]]


def _bad(zh: str, en: str) -> InvalidPartner:
    return InvalidPartner(zh=f"合作方评分：{zh}", en=f"Partner scorecard: {en}")


# --- weights ------------------------------------------------------------------------------------------


def default_weights() -> dict[str, Decimal]:
    return {c: ONE for c in CRITERIA}


def get_weights(session: Session, business: str) -> dict[str, Decimal]:
    row = session.scalar(select(ScoreWeights).where(ScoreWeights.business == business))
    if row is None:
        return default_weights()
    return {c: Decimal(row.weights.get(c, "1")) for c in CRITERIA}


def parse_weights(raw: Mapping[str, Any]) -> dict[str, Decimal]:
    weights: dict[str, Decimal] = {}
    for c in CRITERIA:
        text = str(raw.get(c, "1")).strip() or "0"
        try:
            value = Decimal(text)
        except ArithmeticError:
            raise _bad(f"权重须为数字：{CRITERIA[c][0]}", f"weights are numbers: {CRITERIA[c][1]}") from None
        if not value.is_finite() or not Decimal(0) <= value <= Decimal(100):
            raise _bad(f"权重须在 0 到 100 之间：{CRITERIA[c][0]}", f"weights are 0–100: {CRITERIA[c][1]}")
        weights[c] = value
    if not any(weights.values()):
        raise _bad("至少一项权重须大于 0", "at least one weight must be above 0")
    return weights


def save_weights(session: Session, business: str, weights: dict[str, Decimal], user_id: int | None) -> None:
    row = session.scalar(select(ScoreWeights).where(ScoreWeights.business == business))
    stored = {c: str(w) for c, w in weights.items()}
    if row is None:
        session.add(ScoreWeights(business=business, weights=stored, updated_by=user_id))
    else:
        row.weights, row.updated_by = stored, user_id
    session.flush()


def businesses(session: Session) -> list[str]:
    names = set(session.scalars(select(ScoreWeights.business)))
    return sorted(names | {"default"})


# --- measured and recorded values ----------------------------------------------------------------------


def _dec(x: float | None, q: Decimal = TENTH) -> Decimal | None:
    return None if x is None else Decimal(str(x)).quantize(q, ROUND_HALF_UP)


def _rate(num: int, den: int) -> Decimal | None:
    return None if den == 0 else (Decimal(num) * 100 / Decimal(den)).quantize(TENTH, ROUND_HALF_UP)


def _per_100_yuan(cost_fen: int, financed_fen: int) -> Decimal | None:
    """Cost per ¥100 financed, in yuan to the fen: cost / financed × 100."""
    return None if financed_fen <= 0 else (Decimal(cost_fen) / Decimal(financed_fen) * 100).quantize(CENT,
                                                                                                     ROUND_HALF_UP)


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (datetime.combine(start, time(), SHANGHAI), datetime.combine(end + timedelta(days=1), time(), SHANGHAI))


def _contract_values(contract: PartnerContract | None, role: str) -> list[Value]:
    if contract is None:
        return []
    terms, ref = contract.terms, f"合同 {contract.reference}"
    out: list[Value] = []
    if role != "funder" and terms.get("fee_rate") is not None:
        out.append(Value("fee_per_100", (Decimal(str(terms["fee_rate"])) * 100).quantize(CENT, ROUND_HALF_UP),
                         None, ref))
    if role == "funder":
        for key in ("early_repayment", "partial_repayment"):
            if key in terms:
                allowed = terms[key] in (True, "allowed", "yes")
                out.append(Value(key, ONE if allowed else Decimal(0), None, ref))
        if terms.get("early_repayment_fee_pct") is not None:
            out.append(Value("early_repayment_fee_pct", Decimal(str(terms["early_repayment_fee_pct"])), None, ref))
    return out


def _payment_values(session: Session, channel: str, start: date, end: date, window: str,
                    complaints_filed: Mapping[str, int]) -> list[Value]:
    f = channel_facts(session, channel, *_bounds(start, end), (start, end))
    outages = downtime_windows(f.cashier_outcomes)
    down = Decimal(str(minutes(outages))).quantize(TENTH, ROUND_HALF_UP) if f.cashier_outcomes else None
    filed = complaints_filed.get(channel, 0)
    per_1000 = None if not f.paid else (Decimal(filed) * 1000 / f.paid).quantize(TENTH, ROUND_HALF_UP)
    callbacks = len(f.callback_delays_s) + f.signature_failures
    recon = None if f.reconciled_lines == 0 else (Decimal(f.discrepancies) * 1000 / f.reconciled_lines).quantize(
        TENTH, ROUND_HALF_UP)
    return [
        Value("pay_success_rate", _rate(f.paid, f.orders), f.orders, window),
        Value("callback_p50_s", _dec(percentile(f.callback_delays_s, 50)), len(f.callback_delays_s), window),
        Value("callback_p99_s", _dec(percentile(f.callback_delays_s, 99)), len(f.callback_delays_s), window),
        # no callbacks at all is no evidence of security: no value rather than the best one
        Value("signature_failures", Decimal(f.signature_failures) if callbacks else None, callbacks, window),
        Value("autodebit_success_rate", _rate(f.autodebit_paid, f.autodebit_orders), f.autodebit_orders, window),
        Value("refund_p50_s", _dec(median(f.refund_times_s)), len(f.refund_times_s), window),
        Value("recon_diff_per_1000", recon, f.reconciled_lines, window),
        Value("downtime_measured_minutes", down, len(f.cashier_outcomes), window),
        Value("payment_complaints_per_1000", per_1000, f.paid, window),
    ]


def payment_complaints(session: Session, start: date, end: date) -> dict[str, int]:
    """Payment and fee complaints filed in the window, by the channel the loan's money was paid through."""
    filed = [(c.loan_id, _aware(c.filed_at)) for c in complaints(session, *_bounds(start, end))
             if c.loan_id is not None and c.category in COMPLAINT_CATEGORIES]
    history = loan_payment_channels(session, sorted({loan for loan, _ in filed}))
    return complaints_by_channel(filed, history)


def _platform_installment_values(session: Session, channel: str, start: date, end: date, window: str
                                 ) -> list[Value]:
    """花呗分期 on the channel: the platform's fee per ¥100 paid in installments, the shopper's part and the
    merchant's (from our orders, which reconciliation checks against the channel's statement)."""
    f = platform_installment_facts(session, channel, *_bounds(start, end))
    return [Value("shopper_cost_per_100", _per_100_yuan(f.shopper_fee_fen, f.amount_fen), f.payments, window),
            Value("merchant_cost_per_100", _per_100_yuan(f.merchant_fee_fen, f.amount_fen), f.payments, window)]


@dataclass(frozen=True, slots=True)
class FunderData:
    apps: list[RoutedApplication]  # routed in the window
    decided: dict[int, datetime]
    loan_funder: dict[int, str]  # the complaints' loans → their funders
    complaints: list[tuple[int | None, datetime, datetime | None]]


def _aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def funder_data(session: Session, start: date, end: date) -> FunderData:
    apps = routed_applications(session, start, end)
    decided = decision_times(session, [a.decision_id for a in apps if a.decision_id is not None])
    filed = complaints(session, *_bounds(start, end))
    funders = loan_funders(session, [c.loan_id for c in filed if c.loan_id is not None])
    return FunderData(apps, decided, funders, [(c.loan_id, c.filed_at, c.resolved_at) for c in filed])


def _funder_values(session: Session, code: str, data: FunderData, costs: Mapping[str, Any], window: str
                   ) -> list[Value]:
    apps = [a for a in data.apps if a.funder_code == code]
    signed = [a for a in apps if a.signed]
    financed = sum(a.financed_fen for a in signed)
    shopper_cost = sum(a.installment_fen * a.term - a.financed_fen for a in signed)
    times = [(_aware(data.decided[a.decision_id]) - _aware(a.submitted_at)).total_seconds()
             for a in apps if a.decision_id in data.decided]
    cost = costs.get(code)
    own = [(filed, resolved) for loan, filed, resolved in data.complaints
           if loan is not None and data.loan_funder.get(loan) == code]
    resolve = [(_aware(r) - _aware(f)).total_seconds() for f, r in own if r is not None]
    limit = None if not apps else (Decimal(sum(a.credit_limit_fen for a in apps)) / len(apps) / 100).quantize(
        CENT, ROUND_HALF_UP)
    return [
        Value("approval_rate", _rate(len(signed), len(apps)), len(apps), window),
        Value("average_limit", limit, len(apps), window),
        Value("decision_p50_s", _dec(median(times)), len(times), window),
        Value("shopper_cost_per_100", _per_100_yuan(shopper_cost, financed), len(signed), window),
        Value("merchant_cost_per_100",
              None if cost is None else _per_100_yuan(cost.merchant_fee_fen + cost.subsidy_fen, cost.financed_fen),
              0 if cost is None else cost.disbursements, window),
        Value("complaints_per_100", None if not signed else (Decimal(len(own)) * 100 / len(signed)).quantize(
            TENTH, ROUND_HALF_UP), len(signed), window),
        Value("complaint_resolve_p50_s", _dec(median(resolve)), len(resolve), window),
    ]


def _recorded(session: Session, partner_id: int) -> list[Value]:
    rows = session.scalars(select(RecordedIndicator).where(RecordedIndicator.partner_id == partner_id)
                           .order_by(RecordedIndicator.as_of, RecordedIndicator.id)).all()
    newest = {r.indicator: r for r in rows}  # the last by date wins
    return [Value(k, r.value, None, f"{r.source}（{r.as_of.isoformat()}）") for k, r in newest.items()]


def _contract_in_force(session: Session, partner_id: int, on: date) -> PartnerContract | None:
    return session.scalar(select(PartnerContract).where(
        PartnerContract.partner_id == partner_id, PartnerContract.starts_on <= on, PartnerContract.ends_on >= on,
    ).order_by(PartnerContract.starts_on.desc(), PartnerContract.id.desc()).limit(1))


def measure(session: Session, *, start: date, end: date) -> list[Row]:
    """Every partner's indicator values over [start, end] (business dates, Beijing days)."""
    window = f"{start.isoformat()} — {end.isoformat()}"
    partners = session.scalars(select(Partner).where(Partner.status != "ended").order_by(Partner.role, Partner.code))
    data = funder_data(session, start, end)
    costs = funder_costs(session, start, end)
    rows = []
    pay_complaints: dict[str, int] | None = None
    for p in partners:
        values: list[Value] = []
        if p.role == "funder" and p.funder_code:
            values += _funder_values(session, p.funder_code, data, costs, window)
        elif p.role != "funder" and p.channel:
            if pay_complaints is None:
                pay_complaints = payment_complaints(session, start, end)
            values += _payment_values(session, p.channel, start, end, window, pay_complaints)
            if p.role == "installment_platform":
                values += _platform_installment_values(session, p.channel, start, end, window)
        values += _contract_values(_contract_in_force(session, p.id, end), p.role)
        values += _recorded(session, p.id)
        rows.append(Row(p.code, p.name, p.role, p.status,
                        {v.key: v for v in values if p.role in BY_KEY[v.key].roles}))
    return rows


# --- scoring --------------------------------------------------------------------------------------------


def score_indicators(rows: list[Row]) -> None:
    for ind in INDICATORS:
        have = [(r, r.values[ind.key].value) for r in rows if ind.key in r.values and
                r.values[ind.key].value is not None]
        if not have:
            continue
        values = [v for _, v in have if v is not None]
        best = max(values) if ind.higher_is_better else min(values)
        worst = min(values) if ind.higher_is_better else max(values)
        for r, v in have:
            assert v is not None
            r.scores[ind.key] = Decimal(100) if best == worst else (
                (v - worst) * 100 / (best - worst)).quantize(TENTH, ROUND_HALF_UP)
    for r in rows:
        for c in CRITERIA:
            got = [s for k, s in r.scores.items() if BY_KEY[k].criterion == c]
            r.criteria[c] = (sum(got, Decimal(0)) / len(got)).quantize(TENTH, ROUND_HALF_UP) if got else None


def total(row: Row, weights: Mapping[str, Decimal]) -> Decimal | None:
    parts = [(weights[c], s) for c, s in row.criteria.items() if s is not None and weights.get(c, 0) > 0]
    wsum = sum((w for w, _ in parts), Decimal(0))
    if not parts or wsum == 0:
        return None
    return (sum((w * s for w, s in parts), Decimal(0)) / wsum).quantize(CENT, ROUND_HALF_UP)


def ranking(rows: list[Row], weights: Mapping[str, Decimal]) -> dict[str, int]:
    """Partner → rank (1 best) under the weights; ties by code; partners without a score last."""
    totals = {r.code: total(r, weights) for r in rows}
    order = sorted(rows, key=lambda r: (totals[r.code] is None, -(totals[r.code] or 0), r.code))
    return {r.code: i + 1 for i, r in enumerate(order)}


def sensitivity(rows: list[Row], weights: Mapping[str, Decimal], step: Decimal = Decimal("0.1")
                ) -> list[Sensitivity]:
    """How the ranking moves when one criterion's weight goes down or up by `step` (10%) of itself."""
    base = ranking(rows, weights)
    out = []
    for c in CRITERIA:
        lower = ranking(rows, {**weights, c: weights[c] * (1 - step)})
        higher = ranking(rows, {**weights, c: weights[c] * (1 + step)})
        out.append(Sensitivity(c, {code: (lower[code], base[code], higher[code]) for code in base}))
    return out


def scorecard(session: Session, *, business: str = "default", weights: Mapping[str, Decimal] | None = None,
              days: int = DEFAULT_DAYS, end: date | None = None) -> Card:
    end = end or business_date(session)
    start = end - timedelta(days=days - 1)
    chosen = dict(weights) if weights is not None else get_weights(session, business)
    rows = measure(session, start=start, end=end)
    groups: dict[str, list[Row]] = {}
    for r in rows:
        groups.setdefault(r.role, []).append(r)
    sens: dict[str, list[Sensitivity]] = {}
    for role, members in groups.items():
        score_indicators(members)
        ranks = ranking(members, chosen)
        for r in members:
            r.total, r.rank = total(r, chosen), ranks[r.code]
        members.sort(key=lambda r: r.rank)
        sens[role] = sensitivity(members, chosen)
    return Card(business, chosen, start, end, groups, sens)


def record_indicator(session: Session, *, code: str, indicator: str, value: Decimal, source: str, as_of: date,
                     user_id: int | None) -> None:
    ind = BY_KEY.get(indicator)
    if ind is None or not ind.recorded:
        raise _bad("不是可登记的指标", f"not a recorded indicator: {indicator}")
    partner = session.scalar(select(Partner).where(Partner.code == code))
    if partner is None:
        raise _bad(f"没有合作方 {code}", f"no such partner: {code}")
    if not source.strip():
        raise _bad("请填写数据来源", "the source is required")
    if not value.is_finite() or value < 0:
        raise _bad("指标值须为非负数", "the value must be 0 or more")
    session.add(RecordedIndicator(partner_id=partner.id, indicator=indicator, value=value, source=source.strip(),
                                  as_of=as_of, recorded_by=user_id))
    session.flush()


BUSINESS = re.compile(r"^[a-z0-9_-]{1,40}$")


def checked_business(raw: str) -> str:
    """A line of business's name as weights are saved under it: lower-case letters, digits, - and _."""
    if not BUSINESS.fullmatch(raw):
        raise InvalidPartner(zh="业务名称只能用小写字母、数字、- 和 _（最多 40 个）",
                             en="A business name is lower-case letters, digits, - and _ (at most 40)")
    return raw


def weight_overrides(params: Mapping[str, str]) -> dict[str, str] | None:
    """What-if weights from a query (`w_<criterion>`), or None when the query names none."""
    raw = {c: params[f"w_{c}"] for c in CRITERIA if f"w_{c}" in params}
    return raw or None


def card_for(session: Session, business: str, days: int, overrides: Mapping[str, str] | None) -> Card:
    """The scorecard of a business over `days`, with what-if weights when given (the page, API and reports)."""
    weights = parse_weights(overrides) if overrides is not None else None
    return scorecard(session, business=checked_business(business), weights=weights, days=days)
