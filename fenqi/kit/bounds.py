"""Bounds where input enters: the annotated types every endpoint, page and form uses for amounts and ids.

`Amount` is a yuan amount written as a string or a number (never a boolean), at most 10⁹ yuan either
way with at most two decimals, parsed by `fenqi.kit.money.parse_yuan` (so the API, the pages and the
CLI refuse the same input with the same words); the sign is left to the domain (a price must be
positive, a down payment may be 0). `EntityId` is a database id, 1..2⁶³−1 (PostgreSQL's BIGINT).

A refusal is a pydantic error whose type is the domain error's code (`invalid_amount`,
`amount_finer_than_fen`, `amount_too_large`, `invalid_id`); `fenqi.api` answers it like the domain
error itself: 400 with `{"error": code, "message": ...}` in zh-CN or English.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

from fenqi.kit.errors import (
    AmountFinerThanFen,
    AmountTooLarge,
    DomainError,
    InvalidAmount,
    InvalidId,
)
from fenqi.kit.money import MAX_YUAN, fmt_yuan, parse_yuan

MAX_ID = 2**63 - 1
_MAX_ID_DIGITS = len(str(MAX_ID))

# The domain errors a boundary type may raise, by the code carried as the pydantic error type.
BOUNDARY_ERRORS: dict[str, type[DomainError]] = {
    cls.code: cls for cls in (InvalidAmount, AmountFinerThanFen, AmountTooLarge, InvalidId)
}

# Marks in the OpenAPI schema by which a test finds every amount and id (and a client learns the rule).
AMOUNT_MARK = "x-fenqi-amount"
AMOUNT_TEXT_MARK = "x-fenqi-amount-text"
ID_MARK = "x-fenqi-id"
ID_TEXT_MARK = "x-fenqi-id-text"

AMOUNT_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "pattern": r"^-?[0-9]{1,10}(\.[0-9]{1,2})?$", "maxLength": 14},
        {"type": "number", "minimum": -float(MAX_YUAN), "maximum": float(MAX_YUAN)},
    ],
    "description": "Yuan: a string or a number with at most two decimals, at most 1000000000.00",
    "examples": ["5999.00"],
    AMOUNT_MARK: True,
}
ID_SCHEMA: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": MAX_ID, ID_MARK: True}


def _refusal(exc: DomainError) -> PydanticCustomError:
    return PydanticCustomError(exc.code, exc.message("en"), {"detail": exc.detail})


def _scalar_only(raw: object, kind: str) -> None:
    """A boolean, list or object where an amount or id belongs is a malformed request (422), not a value."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
        raise PydanticCustomError(f"{kind}_type", f"{kind} must be a string or a number, not {type(raw).__name__}")


def amount_value(raw: object) -> Decimal:
    """The validator of `Amount` (a field's name is added by fenqi.api from the error's location)."""
    _scalar_only(raw, "amount")
    try:
        return parse_yuan(raw, field="amount")
    except DomainError as exc:
        raise _refusal(exc) from None


def parse_id(raw: object, *, field: str = "id") -> int:
    """A database id from JSON (an integer, never a boolean) or text (a path, a query, a form):
    1..2⁶³−1, checked on the digits before any conversion."""
    if isinstance(raw, bool):
        raise InvalidId(field)
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str):
        text = raw.strip()
        if not text.isascii() or not text.isdigit() or len(text) > _MAX_ID_DIGITS:
            raise InvalidId(field)
        value = int(text)
    else:
        raise InvalidId(field)
    if not 1 <= value <= MAX_ID:
        raise InvalidId(field)
    return value


def id_value(raw: object) -> int:
    _scalar_only(raw, "id")
    try:
        return parse_id(raw)
    except DomainError as exc:
        raise _refusal(exc) from None


Amount = Annotated[
    Decimal,
    BeforeValidator(amount_value),
    PlainSerializer(fmt_yuan, return_type=str),
    WithJsonSchema(AMOUNT_SCHEMA, mode="validation"),
]
EntityId = Annotated[int, BeforeValidator(id_value), WithJsonSchema(ID_SCHEMA, mode="validation")]
# An amount typed into a page's form or query string, kept as text so that the page can show a refusal
# next to the field (and keep what was typed); the page parses it with `parse_yuan`, the same bounds as
# `Amount`. Longer text than any amount is a malformed request.
AmountText = Annotated[
    str,
    Field(max_length=64),
    WithJsonSchema({"type": "string", "maxLength": 64, AMOUNT_TEXT_MARK: True}, mode="validation"),
]
# The same for an id in a page's form that may be left empty; the page parses it with `parse_id`.
IdText = Annotated[
    str,
    Field(max_length=20),
    WithJsonSchema({"type": "string", "maxLength": 20, ID_TEXT_MARK: True}, mode="validation"),
]

# Counts and limits that are not ids (page sizes, days, terms) are bounded by Field(ge=..., le=...)
# where they are declared; this one is for "how many" query parameters without a natural limit.
Count = Annotated[int, Field(ge=0, le=1_000_000)]
