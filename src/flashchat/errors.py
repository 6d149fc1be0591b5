"""Errors the engine reports to front ends: what went wrong, in words that say what to do about it."""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    NO_KEY = "no_key"
    BAD_KEY = "bad_key"
    BAD_REQUEST = "bad_request"
    PERMISSION = "permission"
    NOT_FOUND = "not_found"
    RATE_LIMIT = "rate_limit"
    SERVER = "server"
    NETWORK = "network"
    TIMEOUT = "timeout"
    TRUNCATED = "truncated"
    BLOCKED = "blocked"
    BAD_RESPONSE = "bad_response"


# Failures worth another attempt when nothing has reached the user yet.
RETRYABLE = frozenset({ErrorKind.RATE_LIMIT, ErrorKind.SERVER, ErrorKind.NETWORK})


class ChatError(Exception):
    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        detail: str = "",
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.detail = detail

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE

    def __repr__(self) -> str:
        return f"ChatError({self.kind.value!r}, {self.message!r}, status={self.status})"


class StoreError(Exception):
    """Something the user asked of the history store that cannot be done (unknown id, bad import file).

    Defined here, not in store.py, so the command line can catch it without importing the store.
    """
