"""Money: integer fen in storage, Decimal yuan in arithmetic, ROUND_HALF_UP to the fen.

Never float. Amounts crossing a boundary (JSON, CLI, database) go through these functions.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from fenqi.kit.errors import AmountFinerThanFen, InvalidAmount, InvalidRate

FEN = Decimal("0.01")
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
    """Parse a user-supplied amount strictly: a finite number with no more than two decimals."""
    if isinstance(raw, bool) or raw is None:
        raise InvalidAmount(field)
    if isinstance(raw, float):
        raw = repr(raw)  # the shortest string that round-trips, so 0.1 stays 0.1
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise InvalidAmount(field) from None
    if not value.is_finite():
        raise InvalidAmount(field)
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
