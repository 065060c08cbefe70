"""`gradwire serve` / `python -m gradwire.server`: run a server until SIGTERM or SIGINT.

On either signal (also as PID 1 in a container, where Python ignores SIGTERM without a handler):
health turns NOT_SERVING, new calls are refused and in-flight ones get the grace period to finish.
With --drain-seconds, health turns NOT_SERVING and new sessions are refused for that long first, while
calls keep being served, so a proxy's health checks take the replica out of the ring before it stops.
A second signal stops at once.
"""

from __future__ import annotations

import gc
import logging
import signal
import sys
import threading
from typing import Sequence

from .app import create_server
from .config import load_config

log = logging.getLogger("gradwire.server")


def main(argv: Sequence[str] | None = None) -> int:
    config = load_config(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=config.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.captureWarnings(True)  # e.g. the engine's torch-like warnings go to the log, once per place
    server, port = create_server(config=config)
    # Start-up objects (modules, the op registry) never die: keep them out of every garbage collection,
    # which the engine's reference cycles (tensor <-> backward node) otherwise trigger often.
    gc.freeze()
    host = config.address.rsplit(":", 1)[0]
    log.info("gradwire server listening on %s:%d", host, port)

    signals_seen = []

    def drain_then_stop() -> None:
        log.info("draining for %g s: health NOT_SERVING, new sessions refused", config.drain_seconds)
        server.drain(config.drain_seconds)
        server.stop(config.grace_seconds)

    def on_signal(signum: int, _frame: object) -> None:
        signals_seen.append(signum)
        if len(signals_seen) == 1:
            log.info("%s: stopping, in-flight calls get %g s", signal.Signals(signum).name, config.grace_seconds)
            if config.drain_seconds > 0:  # in a thread: a second signal must still be handled meanwhile
                threading.Thread(target=drain_then_stop, name="gradwire-drain", daemon=True).start()
            else:
                server.stop(config.grace_seconds)
        else:  # a second signal: do not wait for the grace period
            log.info("%s again: stopping now", signal.Signals(signum).name)
            server.stop(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server.wait_for_termination()
    log.info("gradwire server stopped")
    return 0
