"""Ledger: chart of accounts, immutable balanced journal entries, balances, trial balance.

The public interface other domains use::

    from fenqi.ledger import Account, Line, Reason, account_balance, cash_account, loan_journal, post_entry
"""

from fenqi.ledger.accounts import CHART, LOAN_ACCOUNTS, Account, Reason, cash_account
from fenqi.ledger.journal import loan_journal
from fenqi.ledger.models import REAL, TRAINING
from fenqi.ledger.service import (
    Line,
    account_balance,
    book_of,
    entry_posted,
    keep_in_book,
    loan_balances,
    post_entry,
    reverse_entry,
    trial_balance,
)

__all__ = [
    "CHART",
    "LOAN_ACCOUNTS",
    "REAL",
    "TRAINING",
    "Account",
    "Line",
    "Reason",
    "account_balance",
    "book_of",
    "cash_account",
    "entry_posted",
    "keep_in_book",
    "loan_balances",
    "loan_journal",
    "post_entry",
    "reverse_entry",
    "trial_balance",
]
