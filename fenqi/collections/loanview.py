"""The columns of servicing's loan, installment and repayment tables that collections reads in its
set-based close-of-business statements and reports — a read-only view, never written here.

Per-loan reads (the schedule, what is owed today, payments) go through `fenqi.servicing.service`; only the
statements over whole chunks of loans, which must stay one SQL statement each, name the columns here.
"""

from __future__ import annotations

from sqlalchemy import column, table
from sqlalchemy.types import BigInteger, Date, Integer, String

loan = table(
    "loan",
    column("id", BigInteger), column("status", String), column("dpd", Integer), column("bucket", String),
    column("principal_outstanding_fen", BigInteger), column("penalty_receivable_fen", BigInteger),
    column("credit_balance_fen", BigInteger), column("cob_date", Date),
)
installment = table(
    "installment",
    column("loan_id", BigInteger), column("status", String),
    column("principal_fen", BigInteger), column("interest_fen", BigInteger), column("fee_fen", BigInteger),
    column("paid_principal_fen", BigInteger), column("paid_interest_fen", BigInteger),
    column("paid_fee_fen", BigInteger),
)
repayment = table(
    "repayment",
    column("loan_id", BigInteger), column("amount_fen", BigInteger), column("business_date", Date),
)
