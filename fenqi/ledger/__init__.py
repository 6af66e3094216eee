"""Ledger: chart of accounts, immutable balanced journal entries, balances, trial balance.

The public interface other domains use::

    from fenqi.ledger import Account, Line, Reason, account_balance, cash_account, loan_journal, post_entry

and, to derive figures from a loan's entries without the journal's tables, `entry_by_key`, `entry_debits`,
`loan_entry_id`, `loan_account_totals`, `own_entries_net_debit` (fenqi.ledger.reads).
"""

from fenqi.ledger.accounts import CHART, LOAN_ACCOUNTS, Account, Reason, cash_account
from fenqi.ledger.journal import loan_journal
from fenqi.ledger.models import REAL, TRAINING
from fenqi.ledger.reads import (
    EntryRef,
    Totals,
    entry_by_key,
    entry_debits,
    loan_account_totals,
    loan_entry_id,
    own_entries_net_debit,
)
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
    "EntryRef",
    "Line",
    "Reason",
    "Totals",
    "account_balance",
    "book_of",
    "cash_account",
    "entry_by_key",
    "entry_debits",
    "entry_posted",
    "keep_in_book",
    "loan_account_totals",
    "loan_balances",
    "loan_entry_id",
    "loan_journal",
    "own_entries_net_debit",
    "post_entry",
    "reverse_entry",
    "trial_balance",
]
