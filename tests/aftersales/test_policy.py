"""The proposal engine against the 三包 rules and the 7-day no-reason return, as DESIGN.md states them."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fenqi.aftersales.errors import InvalidPolicy
from fenqi.aftersales.policy import DEFAULT_POLICY, Facts, policy_from_json, policy_to_json, propose

SALE = date(2026, 3, 10)
CLEAN = {i.code: True for i in DEFAULT_POLICY.checklist}


def facts(day: int, reason: str = "fault", **kw: object) -> Facts:
    return Facts(reason=reason, sale_date=SALE, today=SALE + timedelta(days=day), online=kw.pop("online", True),
                 **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("day", "allowed"), [
    (0, ("return", "exchange", "repair")), (5, ("return", "exchange", "repair")), (7, ("return", "exchange", "repair")),
    (8, ("exchange", "repair")), (15, ("exchange", "repair")), (16, ("repair",)), (364, ("repair",)),
])
def test_a_handset_fault_opens_return_then_exchange_then_repair(day: int, allowed: tuple[str, ...]) -> None:
    p = propose(DEFAULT_POLICY, facts(day, inspection=CLEAN))
    assert p.allowed == allowed
    assert p.free_repair
    assert p.deduction_fen == 0


def test_after_the_warranty_repair_is_paid_and_parts_have_their_own_warranty() -> None:
    late = propose(DEFAULT_POLICY, facts(400))
    assert late.allowed == ("repair",) and not late.free_repair
    assert "过12个月保修期" in late.explain("zh") and "past its 12-month warranty" in late.explain("en")
    battery = propose(DEFAULT_POLICY, facts(200, part="battery"))  # 6 months for a battery
    assert not battery.free_repair
    charger = propose(DEFAULT_POLICY, facts(200, part="charger"))
    assert charger.free_repair and charger.allowed == ("repair",)


def test_two_failed_repairs_offer_an_exchange_within_the_warranty() -> None:
    once = propose(DEFAULT_POLICY, facts(100, failed_repairs=1))
    twice = propose(DEFAULT_POLICY, facts(100, failed_repairs=2))
    assert once.allowed == ("repair",)
    assert twice.allowed == ("exchange", "repair") and twice.recommended == "exchange"
    assert "维修2次仍未修复" in twice.explain("zh")


def test_no_reason_return_within_seven_days_online_only_and_unsealing_does_not_forfeit_it() -> None:
    opened = dict(CLEAN, seal=False)
    assert propose(DEFAULT_POLICY, facts(7, "no_reason", inspection=opened)).allowed == ("return",)
    late = propose(DEFAULT_POLICY, facts(8, "no_reason"))
    assert late.allowed == () and "已过7天无理由退货期" in late.explain("zh")
    in_store = propose(DEFAULT_POLICY, facts(2, "no_reason", online=False))
    assert in_store.allowed == () and "门店购买" in in_store.explain("zh")
    offered = policy_from_json({**policy_to_json(DEFAULT_POLICY), "no_reason_in_store": True})
    assert propose(offered, facts(2, "no_reason", online=False)).allowed == ("return",)


def test_activation_traces_and_damage_forfeit_the_no_reason_return() -> None:
    locked = propose(DEFAULT_POLICY, facts(3, "no_reason", inspection=dict(CLEAN, account_signed_out=False)))
    assert locked.allowed == () and "无激活锁" in locked.explain("zh")


def test_missing_accessories_are_itemized_deductions() -> None:
    p = propose(DEFAULT_POLICY, facts(5, "no_reason", inspection=dict(CLEAN, charger=False, cable=False)))
    assert p.allowed == ("return",)
    assert [(d.code, d.amount_fen) for d in p.deductions] == [("charger", 4900), ("cable", 2900)]
    assert p.deduction_fen == 7800
    assert "扣减78.00元" in p.explain("zh") and "Deductions of 78.00 yuan" in p.explain("en")


def test_water_damage_voids_the_warranty() -> None:
    p = propose(DEFAULT_POLICY, facts(3, inspection=dict(CLEAN, water_indicator=False)))
    assert p.allowed == ("repair",) and not p.free_repair
    assert "人为损坏" in p.explain("zh")


def test_a_closed_loan_cannot_be_returned() -> None:
    p = propose(DEFAULT_POLICY, facts(3, loan_open=False))
    assert p.allowed == ("exchange", "repair")


def test_policy_documents_are_checked() -> None:
    refusals = []
    for document in ({"fault_return_days": 20, "fault_exchange_days": 15}, {"warranty_months": {"screen": 3}},
                     {"checklist": [{"code": "x", "zh": "x", "en": "x", "deduction": "1.001"}]},
                     {"cheaper_exchange": "gift"}, {"checklist": [{"code": "x"}]}):
        with pytest.raises(InvalidPolicy) as refused:
            policy_from_json(document)  # type: ignore[arg-type]
        refusals.append(refused.value)
    for exc in refusals:  # said in Chinese in the Chinese message (the fields and values named in brackets aside)
        zh = re.sub(r"（[^）]*）", "", exc.message("zh"))
        assert zh.startswith("售后政策有误：") and not re.search(r"[a-z]{3,}", zh), exc.message("zh")
        assert not re.search(r"[\u4e00-\u9fff]", exc.message("en")), exc.message("en")
    assert policy_from_json(policy_to_json(DEFAULT_POLICY)) == DEFAULT_POLICY


@settings(suppress_health_check=[HealthCheck.too_slow])  # a pure test, but the CI machine may be busy
@given(day=st.integers(0, 800), reason=st.sampled_from(["fault", "no_reason"]), failed=st.integers(0, 4),
       online=st.booleans(), results=st.dictionaries(st.sampled_from([i.code for i in DEFAULT_POLICY.checklist]),
                                                     st.booleans()))
def test_windows_only_narrow_with_time(day: int, reason: str, failed: int, online: bool,
                                       results: dict[str, bool]) -> None:
    """What is allowed on a later day is never more than what was allowed earlier (same facts)."""
    inspection = dict(CLEAN, **results)
    now = propose(DEFAULT_POLICY, facts(day, reason, inspection=inspection, failed_repairs=failed, online=online))
    later = propose(DEFAULT_POLICY, facts(day + 1, reason, inspection=inspection, failed_repairs=failed,
                                          online=online))
    assert set(later.allowed) <= set(now.allowed) | {"repair"}
    assert now.recommended in (*now.allowed, None)
    assert bool(now.allowed) == bool(now.recommended)
    assert all(zh and en for zh, en in now.reasons)
