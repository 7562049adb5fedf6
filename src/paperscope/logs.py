"""Log output: plain text by default, one JSON object a line with `log_format=json` (for log collectors)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

# attributes every LogRecord has; anything else was passed with `extra=` and goes into the JSON object
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, the `extra=` fields, and the exception text when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        doc = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
               "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        doc.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False, default=str)


def configure(fmt: str, level: int | None = None) -> None:
    """Send paperscope's and the server's log lines to stderr in the chosen format (idempotent).

    Text logs stay quiet (warnings and errors); JSON logs add one access line per request for collectors."""
    level = level if level is not None else (logging.INFO if fmt == "json" else logging.WARNING)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_paperscope", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler._paperscope = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    for name in ("paperscope", "uvicorn", "uvicorn.error"):
        logging.getLogger(name).setLevel(level)
