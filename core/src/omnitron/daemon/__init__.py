"""The project's daemon: it keeps each stack that is up as declared, and answers the infrastructure API.

One daemon per project (``omnitron daemon start|stop|status|run``), beside the
state store in ``.omnitron/``: ``daemon.sock`` (the API, mode 0600),
``daemon.pid``, ``daemon.lock`` (held while it runs, so a second one cannot
start) and ``daemon.log`` (rotated).

- :mod:`.reconcile`: the reconcile loop (level-triggered: missing, exited,
  changed, unhealthy, orphaned services; backoff; dependents re-gated);
- :mod:`.janitor`: the phantom endpoint janitor;
- :mod:`.chores`: presets' periodic chores and the paths they watch;
- :mod:`.server`, :mod:`.api`: the process and its HTTP/JSON API over the socket
  (documented by ``openapi.yaml`` beside this file);
- :mod:`.control`: starting, stopping and asking about it from the command line;
- :mod:`.wire`, :mod:`.fastpath`: the standard-library client the command line
  uses to ask a running daemon before anything heavy is imported.

This package's ``__init__`` and the client modules import only the standard
library; the server side (aiohttp, the engine) is imported by the daemon alone.
"""
