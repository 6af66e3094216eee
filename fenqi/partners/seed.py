"""Demo data: the demo's funders and payment platforms in the registry (licences, contracts with terms,
recorded market figures with their source) and a pilot for the newest funder, so the scorecard, the
pilot page and the report are populated."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any, Literal, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.kit.clock import business_date
from fenqi.partners.models import Partner
from fenqi.partners.pilots import METRICS, create_pilot, running
from fenqi.partners.schemas import ContractIn, LicenceIn, PartnerIn
from fenqi.partners.scorecard import record_indicator
from fenqi.partners.service import add_contract, add_licence, create_partner

FUNDER_TERMS: dict[str, Any] = {"settlement_days": 1, "early_repayment": "allowed", "partial_repayment": "allowed",
                                "early_repayment_fee_pct": "0"}
PAY_TERMS: dict[str, Any] = {"fee_rate": "0.006", "settlement_days": 1}


class Spec(NamedTuple):
    code: str
    name: str
    role: Literal["funder", "payment_platform", "installment_platform"]
    link: str  # the funder's routing code, or the platform's payment channel
    terms: dict[str, Any]
    recorded: dict[str, str]


PARTNERS = (
    Spec("P-SHBANK", "沪江银行消费金融部", "funder", "F-SHBANK",
         FUNDER_TERMS | {"partial_repayment": "not_allowed", "early_repayment_fee_pct": "1"},
         {"market_share": "6.5", "active_users": "1200"}),
    Spec("P-ZHCF", "众合消费金融", "funder", "F-ZHCF", FUNDER_TERMS, {"market_share": "3.2", "active_users": "800"}),
    Spec("P-NEWBANK", "南粤新锐银行", "funder", "F-NEWBANK", FUNDER_TERMS | {"early_repayment_fee_pct": "0.5"},
         {"market_share": "0.8"}),
    Spec("P-ALIPAY", "支付宝", "payment_platform", "alipay", PAY_TERMS,
         {"market_share": "54.6", "downtime_minutes": "12"}),
    Spec("P-WECHAT", "微信支付", "payment_platform", "wechatpay", PAY_TERMS,
         {"market_share": "38.8", "downtime_minutes": "20"}),
)
SOURCE = "演示数据：行业研究报告（示例）"


def seed(session: Session) -> list[str]:
    if session.scalar(select(Partner.id).where(Partner.code == PARTNERS[0].code)) is not None:
        return ["partners: demo registry already present"]
    today = business_date(session)
    for spec in PARTNERS:
        funder = spec.role == "funder"
        create_partner(session, PartnerIn(code=spec.code, name=spec.name, role=spec.role, status="contracted",
                                          funder_code=spec.link if funder else None,
                                          channel=None if funder else spec.link))
        add_licence(session, spec.code, LicenceIn(kind="financial" if funder else "payment", number=f"DEMO-{spec.code}",
                                                  scope="演示", valid_from=today - timedelta(700),
                                                  expires_on=today + timedelta(900)))
        add_contract(session, spec.code, ContractIn(reference=f"HT-{spec.code}", starts_on=today - timedelta(365),
                                                    ends_on=today + timedelta(365), terms=dict(spec.terms)))
        for key, value in spec.recorded.items():
            record_indicator(session, code=spec.code, indicator=key, value=Decimal(value), source=SOURCE,
                             as_of=today - timedelta(30), user_id=None)
    notes = [f"partners: {len(PARTNERS)} partners with licences, contracts and recorded figures"]
    if running(session) is None:
        create_pilot(session, name="南粤新锐银行 10% 试点", candidate="P-NEWBANK", incumbent=None,
                     share=Decimal("0.10"), starts_on=today - timedelta(30), ends_on=today + timedelta(60),
                     metrics=list(METRICS), user_id=None)
        notes.append("partners: a 10% pilot for 南粤新锐银行")
    return notes
