"""The assignment engine's services: who may work where (access.py), leases (leases.py),
claiming the next task (claim.py), submissions and skips (submit.py), review verdicts
(review.py), membership and pauses (membership.py), and what the workbench shows
(workbench.py).

Invariants (tests/test_queue_concurrency.py hammers them on both databases):
* a task's label slots = `required_labels`; `open_slots` counts those nobody holds or
  has answered; a claim takes one (`open_slots - 1` guarded by `open_slots > 0`) in the
  same transaction that inserts the assignment, so no slot is held twice;
* one assignment per (task, user, kind), by a unique constraint: nobody labels a task
  twice;
* on PostgreSQL the candidate row is locked with FOR UPDATE SKIP LOCKED, so concurrent
  claimers take different tasks instead of queueing on one row; on SQLite writers are
  serialised anyway (db.Database.write).
An expired lease is deleted and gives its slot back (`leases.sweep_expired`). Every change
of a task's slots or review state goes through tasks.lifecycle."""
