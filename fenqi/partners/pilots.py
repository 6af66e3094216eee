"""Pilots: a candidate funder gets a share of eligible applications (or a candidate payment channel a share of
cashier sessions) for a period, then candidate and incumbent are compared with confidence intervals and
someone decides — adopt, extend or stop (audited).

A channel pilot (the candidate a payment platform with its channel): while it runs within its period,
payments' cashier routing asks `active_channel_pilot` and shows the candidate channel first to the pilot's
share of shoppers (a stable hash of the shopper, fenqi.payments.routing.with_pilot), second to the others.
Its comparison, over the cashier orders created in the period: payment success rate (paid / finished) with
Wilson intervals and Newcombe's difference, and callback delay (median seconds from the channel's payment
time to our receipt of its callback) with bootstrap intervals. One funder pilot and one channel pilot may
run at the same time.

Routing: while a pilot runs within its period, funding's routing policy carries it (`pilot_funder`,
`pilot_share`): an application goes to the candidate when a hash of its id falls below the share (so an
application's arm is fixed, fenqi.funding.routing.in_pilot). Starting, ending (after its period, by the
nightly close) or deciding a pilot publishes a new policy version with the same strategy and list.

Comparison over the applications routed in the period (through origination's port): rates (approval:
routed → signed) with Wilson 95% intervals and Newcombe's interval for the difference; times (decision
time, seconds) and amounts (average limit) with percentile-bootstrap 95% intervals (seeded, so the page
is stable). A difference is significant when its interval excludes zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.funding.service import current_policy, set_policy
from fenqi.identity.service import audit
from fenqi.kit.clock import business_date
from fenqi.kit.db import utcnow
from fenqi.origination.partner_facts import RoutedApplication, routed_applications
from fenqi.partners.errors import InvalidPartner, PartnerNotFound
from fenqi.partners.models import Partner, Pilot
from fenqi.partners.service import standing
from fenqi.partners.stats import (
    Interval,
    bootstrap,
    bootstrap_difference,
    mean,
    median,
    rate_difference,
    significant,
    wilson,
)
from fenqi.payments.partner_facts import CashierOrder, cashier_orders
from fenqi.risk.partner_facts import decision_times

METRICS: dict[str, tuple[str, str]] = {
    "approval_rate": ("通过率（分配后签约）", "Approval rate (routed → signed)"),
    "decision_time": ("审批用时中位数（秒）", "Decision time, median (s)"),
    "average_limit": ("平均授信额度（元）", "Average credit limit (¥)"),
}
CHANNEL_METRICS: dict[str, tuple[str, str]] = {
    "payment_success_rate": ("支付成功率", "Payment success rate"),
    "callback_delay": ("回调延迟中位数（秒）", "Callback delay, median (s)"),
}
ALL_METRICS = METRICS | CHANNEL_METRICS
RATE_METRICS = ("approval_rate", "payment_success_rate")
DECISIONS: dict[str, tuple[str, str]] = {"adopt": ("采用", "Adopt"), "extend": ("延长", "Extend"),
                                         "stop": ("停止", "Stop")}
MAX_SHARE = Decimal("0.5")


def _bad(zh: str, en: str) -> InvalidPartner:
    return InvalidPartner(zh=f"试点：{zh}", en=f"Pilot: {en}")


def kind_of(partner: Partner) -> str:
    """"channel" for a payment platform's pilot (cashier channel order), "funder" for a funder's."""
    return "channel" if partner.role == "payment_platform" else "funder"


def _target(session: Session, code: str) -> Partner:
    row = session.scalar(select(Partner).where(Partner.code == code))
    if row is None:
        raise PartnerNotFound(code)
    if not ((row.role == "funder" and row.funder_code) or (row.role == "payment_platform" and row.channel)):
        raise _bad(f"{row.name} 不是已关联路由的资金方或支付渠道",
                   f"{code} is neither a funder with a routing code nor a payment platform with a channel")
    return row


def running(session: Session, kind: str = "funder") -> Pilot | None:
    """The running pilot of that kind (funder or channel)."""
    q = select(Pilot).join(Partner, Partner.id == Pilot.candidate_id).where(Pilot.status == "running")
    channel = Partner.role == "payment_platform"
    q = q.where(channel if kind == "channel" else ~channel)
    return session.scalar(q.order_by(Pilot.id.desc()).limit(1))


def _metrics(kind: str, metrics: list[str]) -> list[str]:
    """The chosen metrics that apply to the pilot's kind (a form may send both kinds' ticked boxes)."""
    if any(m not in ALL_METRICS for m in metrics):
        raise _bad("未知的成功指标", "unknown success metric")
    allowed = CHANNEL_METRICS if kind == "channel" else METRICS
    chosen = list(dict.fromkeys(m for m in metrics if m in allowed))
    if not chosen:
        raise _bad("请选择成功指标", "choose the success metrics")
    return chosen


def create_pilot(session: Session, *, name: str, candidate: str, incumbent: str | None, share: Decimal,
                 starts_on: date, ends_on: date, metrics: list[str], user_id: int | None) -> Pilot:
    cand = _target(session, candidate)
    inc = _target(session, incumbent) if incumbent else None
    kind = kind_of(cand)
    if inc is not None and inc.id == cand.id:
        raise _bad("候选方与对照方不能相同", "the candidate and the incumbent must differ")
    if inc is not None and kind_of(inc) != kind:
        raise _bad("候选方与对照方须同为资金方或同为支付渠道", "the candidate and the incumbent must be of one kind")
    if not name.strip():
        raise _bad("请填写试点名称", "a name is required")
    if not share.is_finite() or not Decimal(0) < share <= MAX_SHARE:
        raise _bad("试点比例须大于 0 且不超过 50%", "the share must be above 0 and at most 50%")
    if ends_on < starts_on:
        raise _bad("结束日早于开始日", "the pilot ends before it starts")
    chosen = _metrics(kind, metrics)
    if running(session, kind) is not None:
        raise _bad("已有同类进行中的试点，请先作出决定", "a pilot of this kind is running: decide it first")
    pilot = Pilot(name=name.strip()[:120], candidate_id=cand.id, incumbent_id=inc.id if inc else None, share=share,
                  starts_on=starts_on, ends_on=ends_on, metrics=chosen, status="running", created_by=user_id)
    session.add(pilot)
    session.flush()
    audit(session, actor_user_id=user_id, action="partners.pilot.create", subject=f"pilot:{pilot.id}",
          detail=f"候选方 {candidate}，比例 {share * 100:.1f}%，{starts_on} 至 {ends_on}")
    sync_routing(session, business_date(session))
    return pilot


def active_channel_pilot(session: Session) -> tuple[str, Decimal] | None:
    """For payments' cashier routing: the running channel pilot's candidate channel and share, within its
    period, while the candidate holds a licence and contract in force."""
    pilot = running(session, "channel")
    if pilot is None:
        return None
    day = business_date(session)
    cand = session.get(Partner, pilot.candidate_id)
    if not pilot.starts_on <= day <= pilot.ends_on or cand is None or not cand.channel or standing(session, cand, day):
        return None
    return cand.channel, pilot.share


def sync_routing(session: Session, day: date) -> None:
    """Make funding's routing policy carry the running pilot within its period, and no pilot otherwise."""
    pilot = running(session)
    want_code: str | None = None
    want_share = Decimal(0)
    if pilot is not None and pilot.starts_on <= day <= pilot.ends_on:
        cand = session.get(Partner, pilot.candidate_id)
        want_code, want_share = (cand.funder_code if cand else None), pilot.share
    policy = current_policy(session)
    if policy.pilot_funder == want_code and (want_code is None or policy.pilot_share == want_share):
        return
    note = f"试点 #{pilot.id}" if pilot is not None and want_code else "试点结束"
    set_policy(session, strategy=policy.strategy.value, priority_list=policy.priority_list, pilot_funder=want_code,
               pilot_share=want_share, note=note)


def decide(session: Session, pilot_id: int, *, decision: str, note: str, user_id: int | None, user_name: str = "",
           new_end: date | None = None) -> Pilot:
    pilot = get_pilot(session, pilot_id)
    if pilot.status != "running":
        raise _bad("该试点已作出决定", "this pilot is already decided")
    if decision not in DECISIONS:
        raise _bad("决定只能是采用、延长或停止", "the decision is adopt, extend or stop")
    if decision == "extend":
        if new_end is None or new_end <= pilot.ends_on:
            raise _bad("延长须给出晚于原结束日的新结束日", "extending needs a later end date")
        pilot.ends_on = new_end
    else:
        pilot.status = "decided"
    pilot.decision, pilot.decided_by, pilot.decided_at = decision, user_id, utcnow()
    pilot.decided_by_name = user_name[:120]
    pilot.decision_note = note.strip()[:2000]
    session.flush()
    audit(session, actor_user_id=user_id, action=f"partners.pilot.{decision}", subject=f"pilot:{pilot.id}",
          detail=f"延长至 {pilot.ends_on}" if decision == "extend" else "")
    sync_routing(session, business_date(session))
    return pilot


def pilot_candidates(session: Session) -> list[Partner]:
    """Funders with a routing code and payment platforms with a channel: what a pilot can name."""
    funders = (Partner.role == "funder") & Partner.funder_code.is_not(None)
    channels = (Partner.role == "payment_platform") & Partner.channel.is_not(None)
    return list(session.scalars(select(Partner).where(funders | channels).order_by(Partner.role, Partner.code)))


def partner_kinds_and_names(session: Session) -> tuple[dict[int, str], dict[int, str]]:
    """Each partner's pilot kind (funder or channel) and name, by id: the pilots page names both sides."""
    partners = list(session.scalars(select(Partner)))
    return {p.id: kind_of(p) for p in partners}, {p.id: p.name for p in partners}


def get_pilot(session: Session, pilot_id: int) -> Pilot:
    pilot = session.get(Pilot, pilot_id)
    if pilot is None:
        raise PartnerNotFound(f"pilot {pilot_id}")
    return pilot


def list_pilots(session: Session) -> list[Pilot]:
    return list(session.scalars(select(Pilot).order_by(Pilot.id.desc())))


# --- the comparison -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Comparison:
    metric: str
    candidate: Interval
    incumbent: Interval
    difference: Interval
    significant: bool | None
    higher_is_better: bool

    @property
    def better(self) -> bool | None:
        """Whether the candidate is significantly better (None: no significant difference or no data)."""
        if not self.significant or self.difference.estimate is None:
            return None
        return (self.difference.estimate > 0) == self.higher_is_better


@dataclass(frozen=True, slots=True)
class Result:
    pilot: Pilot
    candidate_name: str
    incumbent_name: str
    start: date
    end: date
    routed: int
    to_candidate: int
    comparisons: list[Comparison]


def _times(apps: list[RoutedApplication], decided: dict[int, datetime]) -> list[float]:
    from datetime import UTC

    def aware(t: datetime) -> datetime:
        return t if t.tzinfo else t.replace(tzinfo=UTC)

    return [(aware(decided[a.decision_id]) - aware(a.submitted_at)).total_seconds()
            for a in apps if a.decision_id is not None and a.decision_id in decided]


def _channel_result(session: Session, pilot: Pilot, cand: Partner, inc: Partner | None, end: date, rounds: int
                    ) -> Result:
    zone = ZoneInfo("Asia/Shanghai")
    orders = cashier_orders(session, datetime.combine(pilot.starts_on, time(), zone),
                            datetime.combine(end + timedelta(days=1), time(), zone))
    a = [o for o in orders if o.channel == cand.channel]
    b = [o for o in orders if o.channel != cand.channel and (inc is None or o.channel == inc.channel)]
    out: list[Comparison] = []
    for metric in pilot.metrics:
        if metric == "payment_success_rate":
            ia, ib = wilson(sum(o.paid for o in a), len(a)), wilson(sum(o.paid for o in b), len(b))
            diff = rate_difference(ia, ib)
            out.append(Comparison(metric, ia, ib, diff, significant(diff), True))
        elif metric == "callback_delay":
            da, db = _delays(a), _delays(b)
            diff = bootstrap_difference(da, db, median, rounds=rounds)
            out.append(Comparison(metric, bootstrap(da, median, rounds=rounds), bootstrap(db, median, rounds=rounds),
                                  diff, significant(diff), False))
    routed = len(a) + len(b)
    return Result(pilot, cand.name, inc.name if inc else "其他支付渠道", pilot.starts_on, end, routed, len(a), out)


def _delays(orders: list[CashierOrder]) -> list[float]:
    return [o.callback_delay_s for o in orders if o.callback_delay_s is not None]


def result(session: Session, pilot: Pilot, *, rounds: int = 1000) -> Result:
    cand = session.get(Partner, pilot.candidate_id)
    inc = session.get(Partner, pilot.incumbent_id) if pilot.incumbent_id else None
    assert cand is not None
    end = min(pilot.ends_on, business_date(session))
    if kind_of(cand) == "channel":
        return _channel_result(session, pilot, cand, inc, end, rounds)
    assert cand.funder_code is not None
    apps = routed_applications(session, pilot.starts_on, end)
    a = [x for x in apps if x.funder_code == cand.funder_code]
    b = [x for x in apps if x.funder_code != cand.funder_code
         and (inc is None or x.funder_code == inc.funder_code)]
    decided = decision_times(session, [x.decision_id for x in a + b if x.decision_id is not None])
    out: list[Comparison] = []
    for metric in pilot.metrics:
        if metric == "approval_rate":
            ia, ib = wilson(sum(x.signed for x in a), len(a)), wilson(sum(x.signed for x in b), len(b))
            diff = rate_difference(ia, ib)
            out.append(Comparison(metric, ia, ib, diff, significant(diff), True))
        elif metric == "decision_time":
            ta, tb = _times(a, decided), _times(b, decided)
            diff = bootstrap_difference(ta, tb, median, rounds=rounds)
            out.append(Comparison(metric, bootstrap(ta, median, rounds=rounds), bootstrap(tb, median, rounds=rounds),
                                  diff, significant(diff), False))
        elif metric == "average_limit":
            la, lb = [x.credit_limit_fen / 100 for x in a], [x.credit_limit_fen / 100 for x in b]
            diff = bootstrap_difference(la, lb, mean, rounds=rounds)
            out.append(Comparison(metric, bootstrap(la, mean, rounds=rounds), bootstrap(lb, mean, rounds=rounds),
                                  diff, significant(diff), True))
    return Result(pilot, cand.name, inc.name if inc else "其他资金方", pilot.starts_on, end, len(apps), len(a), out)
