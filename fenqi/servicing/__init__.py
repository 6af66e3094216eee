"""Loan servicing: loan accounts, repayment allocation, early repayment, overdue and penalties,
close-of-business, write-off. Public entry points: fenqi.servicing.service (book_loan,
apply_repayment, payoff_quote, refund_credit, write_off) and fenqi.servicing.cob (run_cob)."""
