"""The google-genai client flashchat sends through: our transport, one TLS context, no retries of the SDK's own.

What a client costs to make, and why it is made this way (measured in bench/gemini_chunks.py, `-p` fixed cost):
- The SDK builds a TLS context for its httpx clients and another for websockets (the Live API, never used
  here) unless it is handed one, and our transport built a third. All three now share `shared_ssl_context()`:
  the SDK takes it as `verify` (httpx clients) and `ssl` (websockets) in the client args.
- Passing our own transport also pins the SDK to httpx2 even when aiohttp happens to be installed.
"""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING

import httpx2
from google import genai
from google.genai import types

from flashchat.providers.tls_context import shared_ssl_context

if TYPE_CHECKING:
    from flashchat.config.settings import Settings
    from flashchat.core.conversation import ReplyDraft

# The reply whose request the transport is about to send. Set around the SDK call, in the task that makes it:
# the SDK spends ~0.1-0.4 s on its first request (validating the contents, building its HTTP client) before
# anything leaves, and time to first token is the server's time, counted from here.
SENDING_FOR: contextvars.ContextVar[ReplyDraft | None] = contextvars.ContextVar("SENDING_FOR", default=None)


class ConnectTimeoutTransport(httpx2.AsyncHTTPTransport):
    """Applies our connect timeout; the SDK sends every request with timeout=None.

    Read timeouts stay off here because the session owns them (first token vs. gap between chunks).
    """

    def __init__(self, connect_timeout: float) -> None:
        super().__init__(verify=shared_ssl_context())
        self._timeouts = {"connect": connect_timeout, "read": None, "write": 60.0, "pool": connect_timeout}

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        request.extensions["timeout"] = self._timeouts
        draft = SENDING_FOR.get()
        if draft is not None:
            draft.mark_sent()  # the bytes leave now: the SDK's own preparation is not the server's time
        response = await super().handle_async_request(request)
        if 300 <= response.status_code < 400:
            # The SDK follows redirects, and a loop ends as a traceback or an empty "reply": an API endpoint
            # that redirects is a wrong base_url, so say that instead.
            await response.aclose()
            raise RedirectRefused(response.status_code, response.headers.get("location", ""))
        return response


class RedirectRefused(httpx2.TransportError):
    def __init__(self, status: int, location: str) -> None:
        super().__init__(f"redirect {status} to {location}")
        self.status, self.location = status, location


def new_client(settings: Settings) -> genai.Client:
    """A client for `settings`' key, base URL and connect timeout (the caller keeps one per event loop)."""
    context = shared_ssl_context()
    http_options = types.HttpOptions(
        base_url=settings.base_url or None,
        client_args={"verify": context},
        # `ssl` is what the SDK's websocket connections read; its httpx client drops what it does not take.
        async_client_args={
            "transport": ConnectTimeoutTransport(settings.connect_timeout),
            "verify": context,
            "ssl": context,
        },
        # One attempt: the session owns retries (the Interactions client would otherwise make five).
        retry_options=types.HttpRetryOptions(attempts=1),
    )
    return genai.Client(api_key=settings.api_key, vertexai=False, http_options=http_options)
