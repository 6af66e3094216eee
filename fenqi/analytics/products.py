"""Product performance per product and term, the stores' delinquency against their peers, and suggestions
computed from both with the figures behind each.

Applications of the period give approval and take-up, merchant subsidy and the funder's rate; loans booked
in the period give volume, APR, delinquency (30+ days past due now, or written off) and loss. Rates are
grouped in SQL by their exact value (rates are stored as exact text) and weighted by amount afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from fenqi.analytics.funnel import application_steps
from fenqi.analytics.portfolio import rate
from fenqi.catalog import reporting as catalog_rep
from fenqi.origination import reporting as origination_rep
from fenqi.pricing import reporting as pricing_rep
from fenqi.servicing import reporting as servicing_rep


@dataclass
class ProductRow:
    product_code: str
    name_zh: str
    name_en: str
    term: int
    applications: int = 0
    decided: int = 0
    approved: int = 0
    signed: int = 0
    subsidy_fen: int = 0
    loans: int = 0
    financed_fen: int = 0
    bad_loans: int = 0
    written_off_fen: int = 0
    apr: Decimal | None = None  # weighted by financed amount
    funder_margin: Decimal | None = None  # customer APR − funder rate, weighted by financed amount
    share: Decimal | None = None  # of all loans of the period

    @property
    def key(self) -> str:
        return f"{self.product_code}-{self.term}"

    @property
    def approval_rate(self) -> Decimal | None:
        return rate(self.approved, self.decided)

    @property
    def take_up(self) -> Decimal | None:
        """Signed over approved."""
        return rate(self.signed, self.approved)

    @property
    def bad_rate(self) -> Decimal | None:
        return rate(self.bad_loans, self.loans)

    @property
    def loss_rate(self) -> Decimal | None:
        return rate(self.written_off_fen, self.financed_fen)

    @property
    def subsidy_per_sale_fen(self) -> int | None:
        if not self.signed:
            return None
        return int((Decimal(self.subsidy_fen) / self.signed).quantize(Decimal(1), ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class StoreRow:
    store_id: int
    name: str
    loans: int
    bad_loans: int
    peer_loans: int
    peer_bad_loans: int

    @property
    def bad_rate(self) -> Decimal | None:
        return rate(self.bad_loans, self.loans)

    @property
    def peer_bad_rate(self) -> Decimal | None:
        return rate(self.peer_bad_loans, self.peer_loans)


@dataclass(frozen=True, slots=True)
class Suggestion:
    kind: str
    zh: str
    en: str
    evidence: list[dict[str, str]] = field(default_factory=list)  # {"table", "key"}: the rows behind it
    figures: dict[str, str] = field(default_factory=dict)


def _weighted(pairs: dict[str, list[tuple[Decimal, int]]], key: str) -> Decimal | None:
    rows = pairs.get(key, [])
    total = sum(w for _, w in rows)
    if not total:
        return None
    return (sum((r * w for r, w in rows), Decimal(0)) / total).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def _bad(loans: Any) -> Any:
    """Loans 30+ days past due now, or written off."""
    bad = (loans.c.status == servicing_rep.WRITTEN_OFF) | (
        loans.c.status.in_(servicing_rep.OPEN_STATUSES) & (loans.c.dpd >= 30))
    return func.sum(case((bad, 1), else_=0))


def product_table(session: Session, *, start: date, end: date) -> list[ProductRow]:
    base = application_steps(session, start, end)
    p = pricing_rep.products()
    names = {c: (zh, en) for c, zh, en in session.execute(select(p.c.code, p.c.name_zh, p.c.name_en)).all()}
    rows: dict[tuple[str, int], ProductRow] = {}

    def row(code: str, term: int) -> ProductRow:
        zh, en = names.get(code, (code, code))
        return rows.setdefault((code, int(term)), ProductRow(code, zh, en, int(term)))

    signed_subsidy = func.sum(base.c.signed * base.c.subsidy_fen)
    for code, term, n, decided, approved, signed, subsidy in session.execute(
        select(base.c.product_code, base.c.term, func.count(), func.sum(base.c.decided), func.sum(base.c.approved),
               func.sum(base.c.signed), signed_subsidy).group_by(base.c.product_code, base.c.term)
    ).all():
        r = row(code, term)
        r.applications, r.decided = int(n), int(decided or 0)
        r.approved, r.signed = int(approved or 0), int(signed or 0)
        r.subsidy_fen = int(subsidy or 0)
    margins: dict[str, list[tuple[Decimal, int]]] = {}
    for code, term, apr, funder_rate, financed in session.execute(
        select(base.c.product_code, base.c.term, base.c.apr, base.c.funder_rate, func.sum(base.c.financed_fen))
        .where(base.c.signed == 1, base.c.funder_rate.is_not(None))
        .group_by(base.c.product_code, base.c.term, base.c.apr, base.c.funder_rate)
    ).all():
        margins.setdefault(row(code, term).key, []).append((Decimal(apr) - Decimal(funder_rate), int(financed)))
    loans = servicing_rep.loans()
    aprs: dict[str, list[tuple[Decimal, int]]] = {}
    for code, term, apr, n, financed, bad, lost in session.execute(
        select(p.c.code, loans.c.term, loans.c.apr, func.count(), func.sum(loans.c.financed_fen), _bad(loans),
               func.sum(loans.c.written_off_fen))
        .join(p, p.c.product_id == loans.c.product_id)
        .where(loans.c.booked_on >= start, loans.c.booked_on <= end)
        .group_by(p.c.code, loans.c.term, loans.c.apr)
    ).all():
        r = row(code, term)
        r.loans += int(n)
        r.financed_fen += int(financed or 0)
        r.bad_loans += int(bad or 0)
        r.written_off_fen += int(lost or 0)
        aprs.setdefault(r.key, []).append((Decimal(apr), int(financed or 0)))
    total = sum(r.loans for r in rows.values())
    for r in rows.values():
        r.apr, r.funder_margin, r.share = _weighted(aprs, r.key), _weighted(margins, r.key), rate(r.loans, total)
    return sorted(rows.values(), key=lambda r: (-r.loans, r.product_code, r.term))


def store_table(session: Session, *, start: date, end: date) -> list[StoreRow]:
    """Loans booked in the period by the store that sold them, against all other stores together."""
    a, loans, s = origination_rep.applications(), servicing_rep.loans(), catalog_rep.stores()
    found = session.execute(
        select(a.c.store_id, s.c.name, func.count(), _bad(loans))
        .join(loans, loans.c.loan_id == a.c.loan_id).join(s, s.c.store_id == a.c.store_id)
        .where(loans.c.booked_on >= start, loans.c.booked_on <= end)
        .group_by(a.c.store_id, s.c.name)
    ).all()
    all_loans = sum(int(r[2]) for r in found)
    all_bad = sum(int(r[3] or 0) for r in found)
    out = [StoreRow(int(i), name, int(n), int(b or 0), all_loans - int(n), all_bad - int(b or 0))
           for i, name, n, b in found]
    return sorted(out, key=lambda r: (-(r.bad_rate or 0), r.store_id))


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{(value * 100).quantize(Decimal('0.1'))}%"


def _yuan(fen: int | None) -> str:
    return "—" if fen is None else f"¥{Decimal(fen) / 100:,.2f}"


def _ref(row: ProductRow) -> dict[str, str]:
    return {"table": "products", "key": row.key, "zh": f"{row.name_zh} {row.term}期",
            "en": f"{row.name_en} {row.term} months"}


def suggestions(products: list[ProductRow], stores: list[StoreRow], *, sales_ratio: Decimal = Decimal(2),
                bad_ratio: Decimal = Decimal(2), min_loans: int = 10) -> list[Suggestion]:
    """Rules over the tables: a plan that sells `sales_ratio`× another but costs more subsidy per sale; a store
    or a plan whose 30+ rate is at least `bad_ratio`× its peers' (with at least `min_loans` loans)."""
    out: list[Suggestion] = []
    for a in products:
        for b in products:
            if a is b or not b.loans or a.loans < sales_ratio * b.loans:
                continue
            pa, pb = a.subsidy_per_sale_fen, b.subsidy_per_sale_fen
            if pa is None or pb is None or pa <= pb:
                continue
            times = (Decimal(a.loans) / b.loans).quantize(Decimal("0.1"))
            kept = rate(b.loans, a.loans)
            out.append(Suggestion(
                "subsidy_tradeoff",
                f"{a.name_zh} {a.term}期 销量是 {b.name_zh} {b.term}期 的 {times} 倍，但每单贴息 {_yuan(pa)}"
                f"（后者 {_yuan(pb)}）；后者保留了前者 {_pct(kept)} 的销量，可考虑调整贴息。",
                f"{a.name_en} {a.term} months sells {times}× {b.name_en} {b.term} months but costs {_yuan(pa)} "
                f"subsidy per sale (vs {_yuan(pb)}); the latter keeps {_pct(kept)} of the volume.",
                [_ref(a), _ref(b)],
                {"sales_ratio": str(times), "subsidy_per_sale_a": _yuan(pa), "subsidy_per_sale_b": _yuan(pb),
                 "volume_kept": _pct(kept)},
            ))
    for st in stores:
        mine, peers = st.bad_rate, st.peer_bad_rate
        if st.loans < min_loans or mine is None or peers is None or not st.bad_loans or mine < bad_ratio * peers:
            continue
        out.append(Suggestion(
            "store_delinquency",
            f"门店 {st.name} 的30天以上逾期率 {_pct(mine)}，是其他门店（{_pct(peers)}）的 {bad_ratio} 倍以上，"
            "建议复核该店的销售与审批。",
            f"Store {st.name} has a 30+ dpd rate of {_pct(mine)}, at least {bad_ratio}× its peers' ({_pct(peers)}).",
            [{"table": "stores", "key": str(st.store_id), "zh": st.name, "en": st.name}],
            {"bad_rate": _pct(mine), "peer_bad_rate": _pct(peers), "loans": str(st.loans)},
        ))
    all_loans, all_bad = sum(p.loans for p in products), sum(p.bad_loans for p in products)
    for p in products:
        mine, peers = p.bad_rate, rate(all_bad - p.bad_loans, all_loans - p.loans)
        if p.loans < min_loans or mine is None or peers is None or not p.bad_loans or mine < bad_ratio * peers:
            continue
        out.append(Suggestion(
            "plan_delinquency",
            f"{p.name_zh} {p.term}期 的30天以上逾期率 {_pct(mine)}，是其他方案（{_pct(peers)}）的 {bad_ratio} 倍以上，"
            "建议复核定价或准入。",
            f"{p.name_en} {p.term} months has a 30+ dpd rate of {_pct(mine)}, at least {bad_ratio}× the other "
            f"plans' ({_pct(peers)}).",
            [_ref(p)], {"bad_rate": _pct(mine), "peer_bad_rate": _pct(peers)},
        ))
    return out
