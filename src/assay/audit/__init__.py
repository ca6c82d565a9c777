"""The audit log: an append-only record of administrative actions and labeling decisions
(who, when, what, from where). `log.record` writes a row in the caller's transaction;
`service` reads and exports them."""
