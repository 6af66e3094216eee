"""Training mode (培训模式): a training store where new clerks practise on the real system.

A merchant marked `training` sells through the same till, risk engine and signing as a real one, but
everything it creates is practice: decisions are marked training (the emulated credit bureau only, no
manual review), sales go to a training funder only, down payments are never sent to a payment channel
(the clerk settles them with a practice payment), loans are kept in the ledger's training book and
skipped by close-of-business, and every report leaves them out. Guided scenarios (a normal sale, a
decline, a return, a repair) with a checklist per clerk, shown to the store manager, who resets the
store with one action.
"""
