"""Model-assisted labeling's services: a project's model settings and state (settings.py),
the HTTP protocol client (http.py), the background round that trains, predicts and orders
the queue (rounds.py), auto-accept with an accuracy guarantee (autoaccept.py), and
label-error checks over finished data (label_errors.py).

Everything slow runs in the background jobs (`rounds.tick`), never in a request. A backend
that fails is recorded on the project (`last_error`) and retried on the next tick;
labeling never waits for it. Pure math lives in `assay.learning`."""
