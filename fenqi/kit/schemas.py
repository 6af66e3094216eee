"""Building blocks of the response models every JSON endpoint declares (the domains' `schemas.py`).

The models describe exactly what an endpoint sends: an unknown key is an error (`extra="forbid"`),
so a response that drifts from its documented shape fails in the tests instead of in a client.
Amounts stay strings in yuan with two decimals, rates strings with four decimals, dates ISO strings.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class Out(BaseModel):
    """Base of every response model."""

    model_config = ConfigDict(extra="forbid")


Money = Annotated[str, Field(pattern=r"^-?\d+\.\d{2}$", examples=["5999.00"], description="Yuan, two decimals")]
Rate = Annotated[str, Field(pattern=r"^-?\d+(\.\d+)?$", examples=["0.1200"], description="A fraction (0.12 = 12%)")]
Day = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", examples=["2026-03-31"], description="YYYY-MM-DD")]
Timestamp = Annotated[str, Field(examples=["2026-03-31T08:00:00+00:00"], description="ISO 8601")]


class Bilingual(Out):
    zh: str
    en: str


class Health(Out):
    status: str = Field(examples=["ok"])
    version: str
