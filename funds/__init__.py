"""基金账簿: the double-entry ledger of the pooled funds, reserves and every personal account.

Where to look:

- :mod:`funds.models` — accounts, entries, postings, balances (sign convention: + credits);
- :mod:`funds.posting` — the posting services (the only writes), reversal, suspensions;
- :mod:`funds.receipts` — contributions received, from the contributions app's allocations;
- :mod:`funds.credits` / :mod:`funds.jobs` — retirees' monthly credits and yearly interest as
  set-based batch steps (:mod:`funds.ledger_sql` holds the SQL);
- :mod:`funds.selectors` — balances and statements; :mod:`funds.health` — fund health,
  risk reserve and the deficit waterfall; :mod:`funds.reconcile` — every invariant checked;
- :mod:`funds.tasks` — Celery tasks (schedule in migration 0003); ``manage.py funds_*`` and
  ``bench_funds`` — the same from the command line.

Rules and figures are ``funds.*`` and ``accounts.*`` policy parameters
(``policy/policies/<jurisdiction>/funds.yaml``); the retiree credit is calcA's
``monthly_account_credit``.
"""
