"""The consent texts a shopper agrees to, each separately and by exact version (PIPL art. 14, 29).

A text is never edited in place: a change is a new version, and the application records the version
and the SHA-256 of the text the shopper saw.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum


class ConsentKind(StrEnum):
    CREDIT_INQUIRY = "credit_inquiry"  # 征信授权
    PERSONAL_INFO = "personal_info"  # 个人信息处理授权
    E_CONTRACT = "e_contract"  # 电子合同签署


@dataclass(frozen=True, slots=True)
class ConsentText:
    kind: ConsentKind
    version: str
    title_zh: str
    title_en: str
    body_zh: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(f"{self.version}\n{self.title_zh}\n{self.body_zh}".encode()).hexdigest()


TEXTS: dict[tuple[ConsentKind, str], ConsentText] = {}


def _add(text: ConsentText) -> None:
    TEXTS[(text.kind, text.version)] = text


_add(ConsentText(
    ConsentKind.CREDIT_INQUIRY, "credit-inquiry-2026.1", "征信查询授权书", "Authorization to query the credit bureau",
    "本人授权分期平台及其合作资金方，为审核本人分期申请及贷后管理之目的，向中国人民银行征信中心及依法设立的"
    "征信机构查询、打印、保存本人的信用报告，并向其报送本人的信用信息。授权期限自本人同意之日起至本次申请"
    "所涉业务结清之日止。",
))
_add(ConsentText(
    ConsentKind.PERSONAL_INFO, "personal-info-2026.1", "个人信息处理授权书",
    "Consent to the processing of personal information",
    "本人同意分期平台为办理分期业务处理本人的姓名、身份证号码、手机号码、银行卡号及工作收入等信息，"
    "其中身份证号码、银行卡号属于敏感个人信息。上述信息加密存储，仅用于身份核验、信用评估、合同履行与法定"
    "留存，并在必要范围内提供给承接本笔业务的资金方。本人可依法查阅、更正、删除个人信息或撤回同意。",
))
_add(ConsentText(
    ConsentKind.E_CONTRACT, "e-contract-2026.1", "电子合同签署确认", "Agreement to sign the e-contract",
    "本人已完整阅读《分期付款合同》全部条款，知悉年化利率、费用、罚息、提前还款、七日无理由退货及投诉渠道，"
    "同意以电子签名方式签署，电子签名与手写签名具有同等法律效力。",
))

CURRENT: dict[ConsentKind, str] = {
    ConsentKind.CREDIT_INQUIRY: "credit-inquiry-2026.1",
    ConsentKind.PERSONAL_INFO: "personal-info-2026.1",
    ConsentKind.E_CONTRACT: "e-contract-2026.1",
}


def current_text(kind: ConsentKind) -> ConsentText:
    return TEXTS[(kind, CURRENT[kind])]
