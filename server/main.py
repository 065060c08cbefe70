"""`gradwire serve` / `python -m gradwire.server`: run a server until SIGTERM or SIGINT.

On either signal (also as PID 1 in a container, where Python ignores SIGTERM without a handler):
health turns NOT_SERVING, new calls are refused and in-flight ones get the grace period to finish.
A second signal stops at once.
"""

from __future__ import annotations

import gc
import logging
import signal
import sys
from typing import Sequence

from .app import AddressInUseError, create_server
from .config import load_config

log = logging.getLogger("gradwire.server")

SWITCH_INTERVAL_SECONDS = 0.0005


def main(argv: Sequence[str] | None = None) -> int:
    config = load_config(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=config.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.captureWarnings(True)  # e.g. the engine's torch-like warnings go to the log, once per place
    try:
        server, port = create_server(config=config)
    except AddressInUseError as error:
        log.error("%s", error)
        return 1
    # Start-up objects (modules, the op registry) never die: keep them out of every garbage collection,
    # which the engine's reference cycles (tensor <-> backward node) otherwise trigger often.
    gc.freeze()
    # Hand the GIL over more often than every 5 ms: with every worker busy, the health check (and the
    # gRPC poller thread that hands it over) otherwise waits for the GIL behind each of them in turn.
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    host = config.address.rsplit(":", 1)[0]
    log.info("gradwire server listening on %s:%d", host, port)

    signals_seen = []

    def on_signal(signum: int, _frame: object) -> None:
        signals_seen.append(signum)
        if len(signals_seen) == 1:
            log.info("%s: stopping, in-flight calls get %g s", signal.Signals(signum).name, config.grace_seconds)
            server.stop(config.grace_seconds)
        else:  # a second signal: do not wait for the grace period
            log.info("%s again: stopping now", signal.Signals(signum).name)
            server.stop(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server.wait_for_termination()
    # Stopped: a further signal while the interpreter exits must not turn a clean exit into a kill.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    log.info("gradwire server stopped")
    return 0
