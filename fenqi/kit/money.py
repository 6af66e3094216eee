"""Money: integer fen in storage, Decimal yuan in arithmetic, ROUND_HALF_UP to the fen.

Never float. Amounts crossing a boundary (JSON, CLI, database) go through these functions.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from fenqi.kit.errors import AmountFinerThanFen, AmountTooLarge, InvalidAmount, InvalidRate

FEN = Decimal("0.01")
# The largest amount anyone may send (design: amounts ≤ 10⁹ yuan). Checked before any arithmetic, so a
# 40-digit or 1E+30 amount is refused at once instead of overflowing Decimal's 28 digits deep inside.
MAX_YUAN = Decimal(1_000_000_000)
_AMOUNT_TEXT = re.compile(r"[+-]?(\d+)(?:\.(\d+))?")
_MAX_AMOUNT_TEXT = 24  # "-1000000000.000000000000" and no longer: longer text is refused unparsed
RATE_PLACES = Decimal("0.0001")
ZERO = Decimal("0.00")


def round_fen(value: Decimal) -> Decimal:
    """Round a yuan amount to the fen, half up (0.005 → 0.01)."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def to_fen(yuan: Decimal) -> int:
    """Exact conversion of a yuan amount with at most two decimals to integer fen."""
    fen = yuan * 100
    if fen != fen.to_integral_value():
        raise InvalidAmount(str(yuan))
    return int(fen)


def from_fen(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(FEN)


def fmt_yuan(yuan: Decimal) -> str:
    """JSON form of an amount: a string with exactly two decimals ("5999.00")."""
    return str(round_fen(yuan))


def fmt_fen(fen: int) -> str:
    """An amount in fen as pages and messages show it, with thousands separators ("1,000.00")."""
    return f"{from_fen(fen):,.2f}"


def rate_as_disclosed(rate: Decimal) -> Decimal:
    """A rate as shown to people: four decimals of a fraction (two of a percentage), half up."""
    return rate.quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def fmt_percent(rate: Decimal | str) -> str:
    """A rate as a percentage for people ("0.1200" → "12.00%"), rounded half up as disclosed."""
    return f"{rate_as_disclosed(Decimal(str(rate))) * 100:.2f}%"


def fmt_rate(rate: Decimal) -> str:
    """JSON form of a rate: a string with four decimals ("0.1200")."""
    return str(rate_as_disclosed(rate))


def parse_yuan(raw: object, *, field: str = "amount") -> Decimal:
    """Parse a user-supplied amount strictly: a string or a number (never a boolean), written in plain
    digits, at most 10⁹ yuan either way, with no more than two decimals. The sign is the caller's
    business (a price must be positive, a down payment may be zero)."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
        raise InvalidAmount(field)
    if isinstance(raw, int):
        if abs(raw) > MAX_YUAN:  # compared as integers: no conversion of a huge number to text
            raise AmountTooLarge(field)
        value = Decimal(raw)
    elif isinstance(raw, float):
        if not math.isfinite(raw):
            raise InvalidAmount(field)
        if abs(raw) > MAX_YUAN:
            raise AmountTooLarge(field)
        value = Decimal(repr(raw))  # the shortest string that round-trips, so 0.1 stays 0.1
    elif isinstance(raw, Decimal):
        if not raw.is_finite():
            raise InvalidAmount(field)
        if abs(raw) > MAX_YUAN:
            raise AmountTooLarge(field)
        value = raw
    else:
        text = raw.strip()
        match = _AMOUNT_TEXT.fullmatch(text) if len(text) <= _MAX_AMOUNT_TEXT else None
        if match is None:
            # Exponents (1E+30), NaN, Infinity, separators and over-long text never reach Decimal.
            digits = _AMOUNT_TEXT.fullmatch(text[:200])
            raise (AmountTooLarge if digits and len(digits.group(1).lstrip("0")) > 10 else InvalidAmount)(field)
        if len(match.group(1).lstrip("0")) > 10:
            raise AmountTooLarge(field)
        try:
            value = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only plain decimals
            raise InvalidAmount(field) from None
        if abs(value) > MAX_YUAN:
            raise AmountTooLarge(field)
    if value != value.quantize(FEN, rounding=ROUND_HALF_UP):
        raise AmountFinerThanFen(field)
    return value.quantize(FEN)


def parse_rate(raw: object, *, field: str = "rate") -> Decimal:
    """Parse a user-supplied rate (a fraction, 0.12 = 12%); must be finite and not negative."""
    if isinstance(raw, bool) or raw is None:
        raise InvalidRate(field)
    if isinstance(raw, float):
        raw = repr(raw)
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise InvalidRate(field) from None
    if not value.is_finite() or value < 0 or value > 10:
        raise InvalidRate(field)
    return value
