"""Loan servicing: loan accounts, repayment allocation, early repayment, overdue and penalties,
close-of-business, write-off, returns. Public entry points: fenqi.servicing.service (book_loan,
apply_repayment, payoff_quote, cancel_loan, refund_credit, write_off, amount_due, next_bill) and
fenqi.servicing.cob (run_cob, close_day); docs/servicing.md lists the modules behind them."""
