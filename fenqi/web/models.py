"""Tables of the staff consoles: notes that operations staff keep on a loan (calls, promises, findings)."""

from __future__ import annotations

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fenqi.kit.db import Base, BigId, Timestamped


class LoanNote(Timestamped, Base):
    """A free-text note on a loan; append-only (corrections are new notes). No personal data belongs here."""

    __tablename__ = "loan_note"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(BigInteger, index=True)
    author_user_id: Mapped[int] = mapped_column(BigInteger)
    author_name: Mapped[str] = mapped_column(String(60))
    author_role: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
