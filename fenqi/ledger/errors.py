"""Ledger errors."""

from __future__ import annotations

from fenqi.kit.errors import Conflict, DomainError, InvalidInput


class UnbalancedEntry(DomainError):
    code = "unbalanced_entry"
    status = 400
    zh = "记账分录借贷不平：{detail}"
    en = "Journal entry does not balance: {detail}"


class InvalidEntry(InvalidInput):
    code = "invalid_entry"
    zh = "记账分录无效：{detail}"
    en = "Invalid journal entry: {detail}"


class UnknownAccount(InvalidInput):
    code = "unknown_account"
    zh = "未知会计科目：{detail}"
    en = "Unknown ledger account: {detail}"


class UnknownChannel(InvalidInput):
    code = "unknown_channel"
    zh = "未知支付渠道：{detail}"
    en = "Unknown payment channel: {detail}"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"
    zh = "幂等键已用于不同的分录：{detail}"
    en = "Idempotency key already used for a different entry: {detail}"
