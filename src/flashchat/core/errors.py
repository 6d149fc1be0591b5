"""Errors the engine reports to front ends: what went wrong, in words that say what to do about it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any


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


# The process exit codes the command line documents (README, --help).
EXIT_OK, EXIT_API_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_SCHEMA_MISMATCH = 3  # `-p --schema`: the reply is not JSON that matches the schema

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


def retry_info_delay(error: Any) -> float | None:
    """Seconds from a google.rpc `RetryInfo.retryDelay` ("37s", "0.5s") in an error object's details, if any.

    Gemini sends it on 429s through the native API and through its OpenAI-compatible endpoint alike.
    """
    details = error.get("details") if isinstance(error, Mapping) else None
    for detail in details or []:
        if isinstance(detail, Mapping) and str(detail.get("@type", "")).endswith("google.rpc.RetryInfo"):
            match = _DURATION.match(str(detail.get("retryDelay", "")))
            if match:
                return float(match[1])
    return None


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
