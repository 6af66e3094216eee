"""Identity's domain errors (the generic 401/403 are fenqi.kit.errors.Unauthorized/Forbidden)."""

from __future__ import annotations

from fenqi.kit.errors import Conflict, DomainError, InvalidInput, Unauthorized


class InvalidCredentials(Unauthorized):
    """Also the answer for a locked or unknown account: the same words, so they cannot be told apart."""

    code = "invalid_credentials"
    zh = "用户名或密码错误；连续 5 次错误后账户将锁定 15 分钟"
    en = "Wrong username or password; 5 failures in a row lock the account for 15 minutes"


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    status = 429
    zh = "登录尝试过于频繁，请稍后再试"
    en = "Too many sign-in attempts from this network; please wait a while"


class InvalidApiKey(Unauthorized):
    code = "invalid_api_key"
    zh = "API 密钥无效或已停用"
    en = "The API key is invalid or revoked"


class SessionExpired(Unauthorized):
    code = "session_expired"
    zh = "登录已过期，请重新登录"
    en = "Your session has expired; please sign in again"


class CsrfFailed(DomainError):
    code = "csrf_failed"
    status = 403
    zh = "页面已过期，请刷新后重试"
    en = "This page has expired; reload it and try again"


class InvalidCode(Unauthorized):
    code = "invalid_code"
    zh = "验证码错误或已过期"
    en = "The code is wrong or has expired"


class TooManyCodes(DomainError):
    code = "too_many_codes"
    status = 429
    zh = "验证码发送过于频繁，请稍后再试"
    en = "Too many codes requested; please wait a while"


class InvalidPhone(InvalidInput):
    code = "invalid_phone"
    zh = "手机号码无效：{detail}（请填写 11 位中国大陆手机号码）"
    en = "Invalid mobile number: {detail} (enter an 11-digit mainland China mobile number)"


class UnknownRole(InvalidInput):
    code = "unknown_role"
    zh = "未知角色：{detail}"
    en = "Unknown role: {detail}"


class UsernameTaken(Conflict):
    code = "username_taken"
    zh = "用户名已被使用：{detail}"
    en = "Username already taken: {detail}"


class WeakPassword(InvalidInput):
    code = "weak_password"
    zh = "密码至少需要 8 个字符"
    en = "The password needs at least 8 characters"


class AgreementRequired(InvalidInput):
    """Sign-in by SMS code: the shopper must tick the box agreeing to the terms and the privacy policy."""

    code = "agreement_required"
    zh = "请阅读并勾选同意《用户服务协议》和《隐私政策》后再获取验证码"
    en = "Please read and tick your agreement to the Terms of Service and the Privacy Policy to get a code"
