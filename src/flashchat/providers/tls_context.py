"""One TLS context for the whole process, shared by every HTTP client flashchat makes (and the HTTP stack's
lazy imports, done ahead by a UI's warm-up).

Why: building a context reads the CA bundle (`load_verify_locations`, ~25-50 ms of CPU each). The Gemini path
used to build three (our transport's, the SDK's httpx clients', the SDK's websocket one) before its first
request, and a new client per event loop built them again. A context holds no connection state, so one can
serve every client, loop and thread.

The context is the one httpx2 builds by default (`httpx2.create_ssl_context()`: SSL_CERT_FILE / SSL_CERT_DIR
when set, else the system's trust store), so what is trusted is what each client trusted on its own before.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

_lock = threading.Lock()
_context: ssl.SSLContext | None = None


def shared_ssl_context() -> ssl.SSLContext:
    """The process's TLS context, built on first use (a UI builds it in a thread after its first frame)."""
    global _context
    with _lock:  # the warm-up thread and a first send on the event loop may ask at once: build it once
        if _context is None:
            import httpx2

            _context = httpx2.create_ssl_context()
        return _context


def prepare_http_stack() -> None:
    """Run in a thread while a UI idles: the TLS context, and the modules httpx2 imports only on its first
    request on an event loop (anyio's asyncio backend and httpcore2's, ~25 ms), so the first send skips both."""
    import contextlib
    import importlib

    shared_ssl_context()
    for name in ("anyio._backends._asyncio", "httpcore2._backends.anyio"):
        # Another version may lay them out differently: the first request then imports what it needs.
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
