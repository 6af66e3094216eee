"""Domain errors: a code, an HTTP status and a message in zh-CN and English.

One handler (fenqi.api) maps them to `{"error": code, "message": ...}`; the CLI prints the
message on one line and exits with code 2.
"""

from __future__ import annotations

from typing import ClassVar, Self


class DomainError(Exception):
    code: ClassVar[str] = "domain_error"
    status: ClassVar[int] = 400
    zh: ClassVar[str] = "请求无法处理"
    en: ClassVar[str] = "The request cannot be processed"

    def __init__(self, detail: str = "", *, zh: str | None = None, en: str | None = None, **params: object) -> None:
        """`detail` and `params` fill the class's message templates; `zh`/`en` replace them outright
        for an error whose wording depends on the case."""
        self.detail = detail
        self.params = params
        self._texts = {"zh": zh, "en": en}
        super().__init__(self.message("en"))

    @classmethod
    def saying(cls, zh: str, en: str, **params: object) -> Self:
        """The class's message with its detail in each language — for a detail that is words rather than a
        value ("the budget must be above zero"), so that the Chinese message is Chinese throughout."""
        return cls(en, zh=cls.zh.format(detail=zh, **params), en=cls.en.format(detail=en, **params), **params)

    def message(self, lang: str = "zh") -> str:
        key = "zh" if lang.startswith("zh") else "en"
        custom = self._texts[key]
        if custom is not None:
            return custom
        template = self.zh if key == "zh" else self.en
        return template.format(detail=self.detail, **self.params)


class NotFound(DomainError):
    code = "not_found"
    status = 404
    zh = "未找到：{detail}"
    en = "Not found: {detail}"


class Conflict(DomainError):
    code = "conflict"
    status = 409
    zh = "状态冲突：{detail}"
    en = "Conflict: {detail}"


class Forbidden(DomainError):
    code = "forbidden"
    status = 403
    zh = "无权执行此操作"
    en = "You are not allowed to do this"


class Unauthorized(DomainError):
    code = "unauthorized"
    status = 401
    zh = "请先登录"
    en = "Please sign in first"


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 400
    zh = "输入有误：{detail}"
    en = "Invalid input: {detail}"


class InvalidAmount(DomainError):
    code = "invalid_amount"
    status = 400
    zh = "金额无效（{detail}）：须为不超过两位小数的数字"
    en = "Invalid amount ({detail}): must be a number with at most two decimals"


class AmountFinerThanFen(InvalidAmount):
    code = "amount_finer_than_fen"
    zh = "金额（{detail}）不能精确到分以下"
    en = "Amount ({detail}) cannot be finer than one fen (0.01)"


class AmountTooLarge(InvalidAmount):
    code = "amount_too_large"
    zh = "金额（{detail}）超出上限：不得超过 1000000000.00 元"
    en = "Amount ({detail}) is above the limit of 1000000000.00 yuan"


class InvalidId(DomainError):
    code = "invalid_id"
    status = 400
    zh = "编号无效（{detail}）：须为 1 到 9223372036854775807 之间的整数"
    en = "Invalid id ({detail}): must be a whole number from 1 to 9223372036854775807"


class BodyTooLarge(DomainError):
    code = "body_too_large"
    status = 413
    zh = "请求内容过大：不得超过 {detail}"
    en = "The request body is too large: at most {detail}"


class NulCharacter(DomainError):
    code = "nul_character"
    status = 400
    zh = "输入中含有不允许的空字符（NUL）"
    en = "The input contains a NUL character, which is not allowed"


class InvalidRate(DomainError):
    code = "invalid_rate"
    status = 400
    zh = "利率无效（{detail}）：须为 0 到 10 之间的小数，例如 0.12 表示 12%"
    en = "Invalid rate ({detail}): must be a fraction between 0 and 10, e.g. 0.12 for 12%"
