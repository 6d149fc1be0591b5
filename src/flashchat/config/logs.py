"""Send library logging and warnings to a log file in the data dir, never to the terminal.

The SDK logs warnings (both key variables set, tool warnings), `warnings.warn`s unknown enum values, and
asyncio may report generator finalization noise; any of these on stderr would corrupt a TUI or a pipe.
"""

from __future__ import annotations

import logging
import warnings

from flashchat.config import paths

_LIBRARY_LOGGERS = ("google_genai", "google", "httpx2", "httpcore2", "asyncio", "py.warnings", "flashchat")
_configured = False


def route_library_output_to_log_file() -> None:
    global _configured
    if _configured:
        return
    _configured = True
    handler: logging.Handler
    try:
        path = paths.log_file()
        paths.ensure_private_dir(path.parent)
        paths.create_private_file(path)  # 0600: a log line may quote a request
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    except OSError:
        # A read-only or full data dir must not stop the chat; the output is dropped instead.
        handler = logging.NullHandler()
    logging.captureWarnings(True)
    warnings.simplefilter("default")
    for name in _LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.propagate = False
        logger.setLevel(logging.INFO)
    # Anything else would fall through to logging.lastResort, which writes to stderr.
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
