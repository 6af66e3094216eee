"""The error answers every endpoint may give, for the OpenAPI (`responses=`), so that /docs lists them.

Every error has the same body, `{"error": code, "message": ...}` (plus `fields` for a refused field).
Routers declare the answers particular to an endpoint (`responses=errors(409, 503)`); fenqi.api adds to
the OpenAPI what follows from how every route is built: 400/405/413/422 for any request, 401/403 for a
route behind sign-in, 404 and 409 when the request names a record, 409 for any change.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """What every error answer carries."""

    error: str = Field(description="A stable code, e.g. invalid_amount, not_found, forbidden",
                       examples=["invalid_amount"])
    message: str = Field(description="What is wrong, in zh-CN (or English by Accept-Language)")
    fields: list[str] | None = Field(None, description="The refused fields, for a refused request")


DESCRIPTIONS: dict[int, str] = {
    400: "Refused input: an amount or id out of bounds, or a value the domain refuses",
    401: "Not signed in (no or unknown API key or session)",
    403: "Signed in, but this role or merchant may not do this (or a page form without its CSRF token)",
    404: "No such record (or not one the caller may see)",
    405: "The path does not accept this method; the Allow header lists those it does",
    409: "The record's state does not allow this now",
    413: "The request body is larger than 1 MiB",
    422: "A malformed request: missing fields or wrong types",
    502: "The payment channel did not answer as expected",
    503: "A dependency (payment channel, credit bureau) is unavailable; try again",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for these error statuses, each with the error body."""
    return {status: {"model": ErrorBody, "description": DESCRIPTIONS[status]} for status in statuses}
