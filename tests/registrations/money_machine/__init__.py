"""The money state machine: a hypothesis state machine that drives the site through its public surface and checks the
money rules after every step (test_money_state_machine.py runs it; test_money_sequences.py replays sequences it found).

rules.py: what it does. Random sequences of registering (card or invoice, with and without codes), Checkout
completing, delayed bank debits succeeding or failing, sessions expiring (events duplicated, replayed out of order,
some after the hold lapsed), a Payment Link paying into an order, invoices paid or voided, teams growing, staff
refunding seats, refunds made in Stripe's dashboard, Stripe refusing a refund once (the worker retries it later),
Stripe making a refund and losing its answer, Stripe reporting `charge.refunded` at any time, and time passing.

invariants.py: what must hold after every step. Seats taken never exceed capacity; every paid order was paid exactly
its price (worked out here from the tiers and the code, independently of the site) and its payments' net equals what
it kept; nothing is refunded or reserved beyond what was paid; a code's seats are never over-used; every payment that
could not stand was given back, or is reserved and being retried; and the receipt, the orders CSV, the finance CSV and
the staff dashboard show exactly what the ledger holds (money owed back that Stripe has not taken yet is not counted
as refunded); and per charge, Stripe's refunded total lies between what the ledger counts as refunded and that plus
what it keeps pending.

profiles.py: how long it runs. `money-ci` (300 examples; CI sets CI=true) and `money-dev` (25, for a quick run);
`money-probe` (MONEY_EXAMPLES examples) and `money-probe-long` (as many, of MONEY_STEPS steps, 20 unless told) for a
longer hunt; MONEY_PROFILE picks one.
"""

from .invariants import MoneyMachine
from .profiles import PROFILE

__all__ = ["PROFILE", "MoneyMachine"]
