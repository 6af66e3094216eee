"""After-sales policy (售后政策) and the proposal engine: pure functions, no database.

A merchant's policy is data (stored versioned in `aftersales_policy`, see fenqi.aftersales.policies);
`propose(policy, facts)` says which outcomes the rules allow for a case and why, in Chinese and English.
Staff then choose only among the allowed outcomes (fenqi.aftersales.service.decide).

The rules follow the mobile-phone warranty rules (三包) and the 7-day no-reason return:

* no reason (无理由): within `no_reason_return_days` of the handover (online sales always, in-store sales
  only if the merchant offers it) → return. Unsealing or testing does not forfeit it; activation traces
  left on the phone (the account not signed out, 激活锁) and damage do.
* a performance fault (性能故障): within `fault_return_days` → return, exchange or repair; within
  `fault_exchange_days` → exchange or repair; within the warranty of the faulty part → free repair;
  after `failed_repairs_for_exchange` repairs that did not fix the same fault (within warranty) → exchange
  or repair. Damage the buyer caused (water, a cracked body) voids the warranty: paid repair only.
* Missing accessories and damage on a returned or exchanged phone are deducted at the policy's prices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from fenqi.aftersales.errors import InvalidPolicy
from fenqi.kit.errors import DomainError
from fenqi.kit.money import fmt_fen, fmt_yuan, from_fen, parse_yuan, to_fen

Outcome = Literal["return", "exchange", "repair"]
OUTCOMES: tuple[str, ...] = ("return", "exchange", "repair")
REASONS: tuple[str, ...] = ("no_reason", "fault")
PARTS: tuple[str, ...] = ("handset", "charger", "battery", "headset")
PART_NAMES = {"handset": ("主机", "handset"), "charger": ("充电器", "charger"), "battery": ("电池", "battery"),
              "headset": ("有线耳机", "wired headset")}
OUTCOME_NAMES = {"return": ("退货", "return"), "exchange": ("换货", "exchange"), "repair": ("维修", "repair")}


@dataclass(frozen=True, slots=True)
class CheckItem:
    """One line of the inspection checklist. A failed item costs `deduction_fen` on a return or an
    exchange; `forfeits_no_reason`: failing it ends the no-reason return; `voids_warranty`: failing it
    means damage the buyer caused (no free return, exchange or repair)."""

    code: str
    zh: str
    en: str
    deduction_fen: int = 0
    forfeits_no_reason: bool = False
    voids_warranty: bool = False


@dataclass(frozen=True, slots=True)
class Policy:
    no_reason_return_days: int = 7
    no_reason_in_store: bool = False  # the 7-day no-reason return is the law for online sales only
    fault_return_days: int = 7
    fault_exchange_days: int = 15
    warranty_months: dict[str, int] = field(
        default_factory=lambda: {"handset": 12, "charger": 12, "battery": 6, "headset": 3})
    checklist: tuple[CheckItem, ...] = ()
    repair_deadline_days: int = 7
    loaner_after_days: int = 3  # a loaner phone is offered when a repair is expected to take longer
    failed_repairs_for_exchange: int = 2
    cheaper_exchange: Literal["reduce_principal", "refund"] = "reduce_principal"

    def item(self, code: str) -> CheckItem | None:
        return next((i for i in self.checklist if i.code == code), None)


DEFAULT_CHECKLIST: tuple[CheckItem, ...] = (
    CheckItem("seal", "包装封条完好（拆封不影响无理由退货）", "Seal intact (opening it does not forfeit the return)"),
    CheckItem("account_signed_out", "已退出账号、无激活锁", "Account signed out, no activation lock",
              forfeits_no_reason=True),
    CheckItem("no_activation_traces", "无激活使用痕迹", "No traces of activation and use", forfeits_no_reason=True),
    CheckItem("no_scratches", "外观无划痕", "No scratches", deduction_fen=200_00, forfeits_no_reason=True),
    CheckItem("water_indicator", "进水标签未变色", "Water indicator not triggered", forfeits_no_reason=True,
              voids_warranty=True),
    CheckItem("body_intact", "机身无磕碰、无裂痕", "Body not dented or cracked", forfeits_no_reason=True,
              voids_warranty=True),
    CheckItem("charger", "充电器齐全", "Charger present", deduction_fen=49_00),
    CheckItem("cable", "数据线齐全", "Cable present", deduction_fen=29_00),
    CheckItem("headset", "耳机齐全", "Headset present", deduction_fen=99_00),
)
DEFAULT_POLICY = Policy(checklist=DEFAULT_CHECKLIST)


# --- the policy as data (JSON) -------------------------------------------------------------------


def _whole(raw: object, name: str) -> int:
    """A count of days, months or repairs: a JSON integer or a string of ASCII digits, nothing else. `int()`
    alone would take `true` as 1, full-width digits ("７") as 7, and fail with OverflowError (a 500) on the
    infinity JSON's 1e400 parses to."""
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise ValueError(f"{name} must be a whole number")
    if isinstance(raw, str):
        text = raw.strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 4):
            raise ValueError(f"{name} must be a whole number between 0 and 3650")
        return int(text)
    return raw


def policy_from_json(data: dict[str, Any]) -> Policy:
    """Parse and check a policy document; raises InvalidPolicy with what is wrong."""
    try:
        days = {k: _whole(data.get(k, getattr(DEFAULT_POLICY, k)), k) for k in (
            "no_reason_return_days", "fault_return_days", "fault_exchange_days", "repair_deadline_days",
            "loaner_after_days", "failed_repairs_for_exchange")}
        months = {str(k): _whole(v, f"warranty_months.{k}")
                  for k, v in dict(data.get("warranty_months", DEFAULT_POLICY.warranty_months)).items()}
        items = tuple(
            CheckItem(str(i["code"])[:40], str(i["zh"])[:80], str(i["en"])[:120],
                      to_fen(parse_yuan(i.get("deduction", "0.00"), field=f"checklist.{i['code']}.deduction")),
                      bool(i.get("forfeits_no_reason", False)), bool(i.get("voids_warranty", False)))
            for i in data.get("checklist", policy_to_json(DEFAULT_POLICY)["checklist"])
        )
    except DomainError as exc:
        raise InvalidPolicy.saying(exc.message("zh")[:120], exc.message("en")[:120]) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidPolicy.saying(f"内容不完整或格式有误（{str(exc)[:100]}）",
                                  f"incomplete or malformed ({str(exc)[:100]})") from None
    if any(v < 0 or v > 3650 for v in (*days.values(), *months.values())):
        raise InvalidPolicy.saying("天数和月数须在 0 到 3650 之间", "days and months must be between 0 and 3650")
    if days["fault_return_days"] > days["fault_exchange_days"]:
        raise InvalidPolicy.saying("故障退货天数不能超过故障换货天数",
                                  "the days for a return on a fault must not exceed the days for an exchange")
    if set(months) - set(PARTS) or "handset" not in months:
        raise InvalidPolicy.saying(f"保修月数按部件（{'、'.join(PART_NAMES[p][0] for p in PARTS)}）填写，须包括主机",
                                  f"warranty months are by part ({', '.join(PARTS)}) and must include the handset")
    if len({i.code for i in items}) != len(items) or any(i.deduction_fen < 0 for i in items):
        raise InvalidPolicy.saying("验机项目不能重复，扣费不能为负数",
                                  "checklist items must be unique and deductions not negative")
    cheaper = str(data.get("cheaper_exchange", DEFAULT_POLICY.cheaper_exchange))
    if cheaper not in ("reduce_principal", "refund"):
        raise InvalidPolicy.saying("换到更便宜的手机时，差价须选择冲减本金（reduce_principal）或退款（refund）",
                                  "for a cheaper exchange, choose reduce_principal or refund")
    return Policy(no_reason_in_store=bool(data.get("no_reason_in_store", False)), warranty_months=months,
                  checklist=items, cheaper_exchange=cheaper, **days)  # type: ignore[arg-type]


def policy_to_json(policy: Policy) -> dict[str, Any]:
    return {
        "no_reason_return_days": policy.no_reason_return_days, "no_reason_in_store": policy.no_reason_in_store,
        "fault_return_days": policy.fault_return_days, "fault_exchange_days": policy.fault_exchange_days,
        "warranty_months": dict(policy.warranty_months), "repair_deadline_days": policy.repair_deadline_days,
        "loaner_after_days": policy.loaner_after_days,
        "failed_repairs_for_exchange": policy.failed_repairs_for_exchange,
        "cheaper_exchange": policy.cheaper_exchange,
        "checklist": [{"code": i.code, "zh": i.zh, "en": i.en, "deduction": fmt_yuan(from_fen(i.deduction_fen)),
                       "forfeits_no_reason": i.forfeits_no_reason, "voids_warranty": i.voids_warranty}
                      for i in policy.checklist],
    }


def fit_for_stock(policy: Policy, inspection: dict[str, bool] | None) -> bool:
    """A phone back from a shopper goes straight back on the shelf unless the inspection found something
    wrong with the phone itself (missing accessories are deducted, not a reason to hold it back)."""
    for code, ok in (inspection or {}).items():
        item = policy.item(code)
        if not ok and item is not None and (item.forfeits_no_reason or item.voids_warranty):
            return False
    return True


# --- the proposal ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Facts:
    """What is known about a case. `inspection`: checklist code → passed (None before the desk inspects)."""

    reason: str  # no_reason | fault
    sale_date: date
    today: date
    online: bool
    part: str = "handset"
    inspection: dict[str, bool] | None = None
    failed_repairs: int = 0
    loan_open: bool = True

    @property
    def days(self) -> int:
        """Days since the handover: the day of sale is day 0, a return "on day 5" is five days later."""
        return (self.today - self.sale_date).days


@dataclass(frozen=True, slots=True)
class Deduction:
    code: str
    zh: str
    en: str
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Proposal:
    allowed: tuple[str, ...]
    recommended: str | None
    free_repair: bool  # a repair is within the warranty (no charge)
    deductions: tuple[Deduction, ...]
    reasons: tuple[tuple[str, str], ...]  # (zh, en), in the order the rules were applied

    @property
    def deduction_fen(self) -> int:
        return sum(d.amount_fen for d in self.deductions)

    def explain(self, lang: str = "zh") -> str:
        return "；".join(zh for zh, _ in self.reasons) if lang.startswith("zh") else "; ".join(
            en for _, en in self.reasons)

    def to_json(self) -> dict[str, Any]:
        return {"allowed": list(self.allowed), "recommended": self.recommended, "free_repair": self.free_repair,
                "deductions": [{"code": d.code, "zh": d.zh, "en": d.en, "amount": fmt_yuan(from_fen(d.amount_fen))}
                               for d in self.deductions],
                "deduction_total": fmt_yuan(from_fen(self.deduction_fen)),
                "explanation": {"zh": self.explain("zh"), "en": self.explain("en")}}


def months_between(start: date, end: date) -> int:
    """Whole months from `start` to `end` (a warranty of 12 months covers up to the same day a year on)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


def propose(policy: Policy, facts: Facts) -> Proposal:
    """The outcomes the policy allows for these facts, the recommended one, deductions and why."""
    if facts.reason not in REASONS:
        raise ValueError(f"reason {facts.reason}")
    days = facts.days
    failed = [policy.item(code) for code, ok in (facts.inspection or {}).items() if not ok]
    failed_items = [i for i in failed if i is not None]
    deductions = tuple(Deduction(i.code, i.zh, i.en, i.deduction_fen) for i in failed_items if i.deduction_fen)
    reasons: list[tuple[str, str]] = []
    allowed: list[str] = []
    free_repair = False
    voids = [i for i in failed_items if i.voids_warranty]
    if facts.reason == "no_reason":
        window = policy.no_reason_return_days
        forfeits = [i for i in failed_items if i.forfeits_no_reason]
        if not facts.online and not policy.no_reason_in_store:
            reasons.append(("门店购买的手机不适用无理由退货（商户政策）",
                            "Phones bought in a store have no no-reason return under this merchant's policy"))
        elif days > window:
            reasons.append((f"已过{window}天无理由退货期（第{days}天）",
                            f"The {window}-day no-reason return has passed (day {days})"))
        elif forfeits:
            names_zh = "、".join(i.zh for i in forfeits)
            names_en = ", ".join(i.en for i in forfeits)
            reasons.append((f"验机未通过：{names_zh}，不再适用无理由退货",
                            f"Inspection failed ({names_en}): the no-reason return no longer applies"))
        else:
            allowed.append("return")
            reasons.append((f"第{days}天，在{window}天无理由退货期内",
                            f"Day {days}, within the {window}-day no-reason return"))
    else:
        months = policy.warranty_months.get(facts.part, 0)
        in_warranty = months_between(facts.sale_date, facts.today) < months
        part_zh, part_en = PART_NAMES.get(facts.part, (facts.part, facts.part))
        if voids:
            reasons.append(("人为损坏（" + "、".join(i.zh for i in voids) + "），不享受三包，可付费维修",
                            "Damage caused by the buyer (" + ", ".join(i.en for i in voids)
                            + "): no warranty service; paid repair only"))
            allowed.append("repair")
        else:
            if facts.part == "handset" and days <= policy.fault_return_days:
                allowed += ["return", "exchange", "repair"]
                reasons.append((f"第{days}天出现性能故障，在{policy.fault_return_days}天内：可退货、换货或维修",
                                f"A performance fault on day {days}, within {policy.fault_return_days} days: "
                                "return, exchange or repair"))
            elif facts.part == "handset" and days <= policy.fault_exchange_days:
                allowed += ["exchange", "repair"]
                reasons.append((f"第{days}天出现性能故障，在{policy.fault_exchange_days}天内：可换货或维修",
                                f"A performance fault on day {days}, within {policy.fault_exchange_days} days: "
                                "exchange or repair"))
            if in_warranty:
                free_repair = True
                if "repair" not in allowed:
                    allowed.append("repair")
                reasons.append((f"{part_zh}在{months}个月保修期内，免费维修",
                                f"The {part_en} is within its {months}-month warranty: free repair"))
                if facts.failed_repairs >= policy.failed_repairs_for_exchange and "exchange" not in allowed:
                    allowed.insert(0, "exchange")
                    reasons.append((f"同一故障已维修{facts.failed_repairs}次仍未修复，可换货",
                                    f"{facts.failed_repairs} repairs did not fix the same fault: exchange"))
            elif not allowed:
                allowed.append("repair")
                reasons.append((f"{part_zh}已过{months}个月保修期，可付费维修",
                                f"The {part_en} is past its {months}-month warranty: paid repair"))
    if ("return" in allowed) and not facts.loan_open:
        allowed.remove("return")
        reasons.append(("贷款已结清或已关闭，无法通过取消贷款退货",
                        "The loan is no longer open: it cannot be unwound by a return"))
    if deductions and any(o in allowed for o in ("return", "exchange")):
        total = fmt_fen(sum(d.amount_fen for d in deductions))
        reasons.append((f"扣减{total}元：" + "、".join(d.zh for d in deductions),
                        f"Deductions of {total} yuan: " + ", ".join(d.en for d in deductions)))
    recommended = allowed[0] if allowed else None
    if facts.reason == "fault" and facts.failed_repairs >= policy.failed_repairs_for_exchange and "exchange" in allowed:
        recommended = "exchange"
    return Proposal(tuple(allowed), recommended, free_repair, deductions, tuple(reasons))
