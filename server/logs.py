"""The server's logging: text (human) or JSON (one object per line, for log shippers).

JSON lines hold "time" (UTC, ISO 8601), "level", "logger", "message", plus an access-log line's fields
(see interceptors/access_log.py) and "exception" for a logged traceback. Lines are formatted and written
by a background thread (logging's QueueHandler/QueueListener), so a call's access line costs the call
little more than making the record. The thread looks for records every few milliseconds rather than
waking for each one: a thread woken per call would take the GIL from the calls once per call.
"""

from __future__ import annotations

import atexit
import datetime
import json
import logging
import logging.handlers
import queue
import sys
import time

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
WRITE_INTERVAL_SECONDS = 0.02


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc).isoformat(
                timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class _Enqueue(logging.handlers.QueueHandler):
    """Hands records to the writer thread with their message fixed (arguments may change later) and
    everything else, exception included, left for the formatter there."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        if not hasattr(record, "fields"):  # an access line's arguments never change: format it later
            record.msg, record.args = record.getMessage(), None
        return record


class _Writer(logging.handlers.QueueListener):
    """Writes what is queued, looking every WRITE_INTERVAL_SECONDS when the queue is empty."""

    def dequeue(self, block: bool) -> logging.LogRecord:
        while True:
            try:
                return self.queue.get_nowait()
            except queue.Empty:
                if not block:
                    raise
                time.sleep(WRITE_INTERVAL_SECONDS)


def configure(level: str, log_format: str, stream=None) -> logging.handlers.QueueListener:
    """Sets up the root logger once for the `gradwire serve` process; the writer thread stops (after
    writing what is queued) at exit."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    records: queue.SimpleQueue = queue.SimpleQueue()
    listener = _Writer(records, handler)
    listener.start()
    atexit.register(listener.stop)
    root = logging.getLogger()
    root.handlers[:] = [_Enqueue(records)]
    root.setLevel(level)
    return listener
