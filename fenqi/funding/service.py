"""Funding service: partners and their products, quotas, routing, disbursement and merchant statements."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from fenqi.funding.errors import NoFunderAvailable, QuotaExhausted
from fenqi.funding.models import Funder, FunderProduct, QuotaUsage, RoutingPolicy
from fenqi.funding.routing import GRADES, Candidate, Policy, Strategy, choose, grade_allows, parse_strategy
from fenqi.kit.errors import Conflict, InvalidInput, NotFound
from fenqi.kit.money import fmt_rate, fmt_yuan, from_fen

# --- partners and products ---------------------------------------------------------------------


def create_funder(
    session: Session, *, code: str, name: str, kind: str, daily_quota_fen: int, monthly_quota_fen: int,
    regions: Sequence[str] = (), priority: int = 100, training: bool = False,
) -> Funder:
    if session.scalar(select(Funder.id).where(Funder.code == code)) is not None:
        raise Conflict.saying(f"资金方 {code} 已存在", f"funder {code} exists")
    if kind not in ("bank", "consumer_finance"):
        raise InvalidInput.saying(f"资金方类型 {kind} 无效（bank 银行 | consumer_finance 消费金融公司）",
                                  f"kind {kind} (bank | consumer_finance)")
    if not 0 < daily_quota_fen <= monthly_quota_fen:
        raise InvalidInput("quotas: 0 < daily ≤ monthly", zh="日额度须大于 0 且不超过月额度",
                           en="The daily quota must be above 0 and at most the monthly quota")
    funder = Funder(code=code, name=name, kind=kind, daily_quota_fen=daily_quota_fen,
                    monthly_quota_fen=monthly_quota_fen, regions=list(regions), priority=priority, training=training)
    session.add(funder)
    session.flush()
    return funder


def get_funder(session: Session, code: str) -> Funder:
    funder = session.scalar(select(Funder).where(Funder.code == code))
    if funder is None:
        raise NotFound.saying(f"资金方 {code}", f"funder {code}")
    return funder


def add_product(
    session: Session, *, funder_code: str, methods: Sequence[str], terms: Sequence[int], annual_rate: Decimal,
    min_grade: str = "C",
) -> FunderProduct:
    funder = get_funder(session, funder_code)
    if min_grade not in GRADES:
        raise InvalidInput.saying(f"最低评级 {min_grade} 无效（A-E）", f"min_grade {min_grade} (A-E)")
    if not methods or not terms or any(t <= 0 for t in terms) or not Decimal(0) <= annual_rate < Decimal(1):
        raise InvalidInput("methods, terms and annual_rate", zh="请填写还款方式、期数和年利率",
                           en="Give the repayment methods, the terms and the annual rate")
    product = FunderProduct(funder_id=funder.id, methods=list(methods), terms=sorted(set(terms)),
                            annual_rate=annual_rate, min_grade=min_grade)
    session.add(product)
    session.flush()
    return product


def set_policy(
    session: Session, *, strategy: str, priority_list: Sequence[str] = (), pilot_funder: str | None = None,
    pilot_share: Decimal = Decimal(0), note: str = "",
) -> RoutingPolicy:
    """A new policy version; the previous ones stay as history."""
    parse_strategy(strategy)
    for code in [*priority_list, *([pilot_funder] if pilot_funder else [])]:
        get_funder(session, code)
    if not Decimal(0) <= pilot_share <= Decimal(1):
        raise InvalidInput("pilot_share must be between 0 and 1", zh="试点比例应在 0 到 1 之间",
                           en="The pilot share must be between 0 and 1")
    row = RoutingPolicy(strategy=strategy, priority_list=list(priority_list), pilot_funder=pilot_funder,
                        pilot_share=pilot_share, note=note)
    session.add(row)
    session.flush()
    return row


def current_policy(session: Session) -> Policy:
    row = session.scalar(select(RoutingPolicy).order_by(RoutingPolicy.id.desc()).limit(1))
    if row is None:
        return Policy(Strategy.LOWEST_COST)
    return Policy(Strategy(row.strategy), tuple(row.priority_list), row.pilot_funder, row.pilot_share)


def real_funders(session: Session) -> list[Funder]:
    """The funders of the real business (a training store's funder aside), in routing priority order."""
    return list(session.scalars(select(Funder).where(Funder.training.is_(False)).order_by(Funder.priority)))


def recent_policies(session: Session, limit: int = 10) -> list[RoutingPolicy]:
    """The routing policies set most recently, newest first (the current one is the first)."""
    return list(session.scalars(select(RoutingPolicy).order_by(RoutingPolicy.id.desc()).limit(limit)))


# --- quotas ------------------------------------------------------------------------------------


def period_keys(on: date) -> tuple[str, str]:
    return f"D{on.isoformat()}", f"M{on:%Y-%m}"


def used(session: Session, funder_id: int, key: str) -> int:
    value = session.scalar(
        select(QuotaUsage.used_fen).where(QuotaUsage.funder_id == funder_id, QuotaUsage.period_key == key)
    )
    return value or 0


def quota_left(session: Session, funder: Funder, on: date) -> tuple[int, int]:
    day, month = period_keys(on)
    return (funder.daily_quota_fen - used(session, funder.id, day),
            funder.monthly_quota_fen - used(session, funder.id, month))


def _ensure_usage_row(session: Session, funder_id: int, key: str) -> None:
    # Two first signings of the day may race to create the row: ON CONFLICT DO NOTHING lets both proceed.
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(QuotaUsage).values(funder_id=funder_id, period_key=key, used_fen=0)
        .on_conflict_do_nothing(index_elements=["funder_id", "period_key"])
    )


def _add_usage(session: Session, funder_id: int, key: str, amount_fen: int, limit_fen: int) -> bool:
    _ensure_usage_row(session, funder_id, key)
    result = session.execute(
        update(QuotaUsage)
        .where(QuotaUsage.funder_id == funder_id, QuotaUsage.period_key == key,
               QuotaUsage.used_fen + amount_fen <= limit_fen)
        .values(used_fen=QuotaUsage.used_fen + amount_fen)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def consume_quota(session: Session, funder: Funder, amount_fen: int, on: date) -> bool:
    """Take amount from both the day's and the month's quota, or from neither.

    Each is a conditional UPDATE (used + amount ≤ quota), which row-locks on PostgreSQL, so two
    concurrent signings can never together go past a quota."""
    day, month = period_keys(on)
    savepoint = session.begin_nested()
    if _add_usage(session, funder.id, day, amount_fen, funder.daily_quota_fen) and _add_usage(
        session, funder.id, month, amount_fen, funder.monthly_quota_fen
    ):
        savepoint.commit()
        return True
    savepoint.rollback()
    return False


# --- routing -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Route:
    funder_code: str
    funder_name: str
    annual_rate: Decimal
    fallbacks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Eligibility:
    candidates: list[Candidate]  # eligible, with quota left
    blocked: list[str]  # eligible but out of quota
    names: dict[str, str]
    policy_version: tuple[int, datetime] | None  # the routing policy in force (id, created_at)


# Routing-policy versions are immutable rows, so a version once read can be kept; keyed by id and
# creation time, so a reused id (a rolled-back row on SQLite) is never mistaken for another version.
_POLICIES: dict[tuple[int, datetime], Policy] = {}


def _policy(session: Session, version: tuple[int, datetime] | None) -> Policy:
    if version is None:
        return Policy(Strategy.LOWEST_COST)
    if version not in _POLICIES:
        row = session.get(RoutingPolicy, version[0])
        if row is None:
            return current_policy(session)
        _POLICIES[version] = Policy(Strategy(row.strategy), tuple(row.priority_list), row.pilot_funder,
                                    row.pilot_share)
    return _POLICIES[version]


# Checks other domains add to routing (partners: licences and contracts in force). Each gets the
# candidate funder codes and the day and answers {code: reason} for those that may not be routed to.
RoutingVeto = Callable[[Session, list[str], date], dict[str, str]]
_vetoes: list[RoutingVeto] = []


def register_routing_veto(veto: RoutingVeto) -> None:
    """Add a check every routing decision runs (wired once by `fenqi.wiring.install()`)."""
    if veto not in _vetoes:
        _vetoes.append(veto)


def vetoed(session: Session, codes: list[str], on: date) -> dict[str, str]:
    """The funders among `codes` that may not be routed to on `on`, with the reason."""
    found: dict[str, str] = {}
    for veto in _vetoes:
        found.update(veto(session, codes, on))
    return found


def _eligible(
    session: Session, *, method: str, term: int, grade: str, region: str, amount_fen: int, on: date,
    training: bool = False,
) -> Eligibility:
    """Partners that take this plan, grade and region: those with quota left, and those without.

    One query: each partner's products with today's and this month's usage, and the routing policy
    version in force, as subqueries."""
    day, month = period_keys(on)
    latest = select(func.max(RoutingPolicy.id)).scalar_subquery()
    latest_at = select(RoutingPolicy.created_at).where(RoutingPolicy.id == latest).scalar_subquery()

    def used_in(key: str) -> Any:
        return func.coalesce(
            select(QuotaUsage.used_fen).where(QuotaUsage.funder_id == Funder.id, QuotaUsage.period_key == key)
            .scalar_subquery(), 0)

    rows = session.execute(
        select(Funder, FunderProduct, used_in(day), used_in(month), latest, latest_at)
        .join(FunderProduct, FunderProduct.funder_id == Funder.id)
        .where(Funder.active.is_(True), Funder.training.is_(training)).order_by(Funder.code, FunderProduct.annual_rate)
    )
    best: dict[str, tuple[Funder, FunderProduct, int, int]] = {}  # by code; the cheapest fitting product
    version: tuple[int, datetime] | None = None
    for funder, product, day_used, month_used, policy_id, policy_at in rows:
        version = (policy_id, policy_at) if policy_id is not None else None
        fits = (method in product.methods and term in product.terms and grade_allows(grade, product.min_grade)
                and (not funder.regions or region in funder.regions))
        if fits and funder.code not in best:  # ordered by rate: the first fitting product is the cheapest
            best[funder.code] = (funder, product, int(day_used), int(month_used))
    # A training funder is no partner: the partners' vetoes (licence, contract) speak of real ones.
    refused = vetoed(session, list(best), on) if best and not training else {}
    open_, blocked = [], []
    for funder, product, day_used, month_used in best.values():
        if funder.code in refused:
            continue
        day_left = funder.daily_quota_fen - day_used
        month_left = funder.monthly_quota_fen - month_used
        if min(day_left, month_left) >= amount_fen:
            open_.append(Candidate(funder.code, product.annual_rate, funder.priority, funder.daily_quota_fen,
                                   day_left, month_left))
        else:
            blocked.append(funder.code)
    return Eligibility(open_, blocked, {code: row[0].name for code, row in best.items()}, version)


def route(
    session: Session, *, application_id: int, method: str, term: int, grade: str, region: str, amount_fen: int,
    on: date, training: bool = False,
) -> Route:
    """The partner for an approved application under the policy in force (no quota is taken yet).
    A training store's practice sale (`training`) goes to a training funder only, a real sale never does."""
    found = _eligible(session, method=method, term=term, grade=grade, region=region, amount_fen=amount_fen, on=on,
                      training=training)
    if not found.candidates:
        if found.blocked:
            raise QuotaExhausted(", ".join(found.blocked))
        raise NoFunderAvailable(f"{method} × {term}, grade {grade}, region {region}")
    ranked = choose(found.candidates, _policy(session, found.policy_version), application_id)
    first = ranked[0]
    return Route(first.code, found.names[first.code], first.annual_rate, tuple(c.code for c in ranked[1:]))


def funder_json(session: Session, funder: Funder, on: date) -> dict[str, object]:
    day_left, month_left = quota_left(session, funder, on)
    products = session.scalars(select(FunderProduct).where(FunderProduct.funder_id == funder.id))
    return {
        "code": funder.code, "name": funder.name, "kind": funder.kind, "priority": funder.priority,
        "regions": funder.regions, "active": funder.active,
        "daily_quota": fmt_yuan(from_fen(funder.daily_quota_fen)),
        "monthly_quota": fmt_yuan(from_fen(funder.monthly_quota_fen)),
        "daily_left": fmt_yuan(from_fen(day_left)), "monthly_left": fmt_yuan(from_fen(month_left)),
        "products": [
            {"methods": p.methods, "terms": p.terms, "annual_rate": fmt_rate(p.annual_rate), "min_grade": p.min_grade}
            for p in products
        ],
    }
