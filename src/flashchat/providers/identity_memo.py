"""Values computed from objects that are replaced, never changed in place, kept by those objects' identity.

A conversation's messages and their stored native content are such objects (see core/conversation.py): a provider
keeps the request form it built for each of them from one turn to the next (providers/gemini_contents.py,
openai_compat.py), so a turn converts only what is new.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class IdentityMemo:
    """Values computed from objects that are replaced, never changed in place (a message, its stored content), kept
    by the identity of those objects from one request to the next.

    A provider keeps one for its session: the next request converts only what is new, and what a request no longer
    used (a conversation switched away from, an edited or retried turn) is forgotten by `next_request`. Nothing else
    needs invalidating: a changed message is a new object, so it misses.
    """

    def __init__(self) -> None:
        # (kind, id of the first source) -> (the sources, held so their ids cannot be reused meanwhile; the value)
        self._kept: dict[tuple[str, int], tuple[tuple[object, ...], Any]] = {}
        self._used: dict[tuple[str, int], tuple[tuple[object, ...], Any]] = {}

    def value(self, kind: str, sources: tuple[object, ...], compute: Callable[..., T], *args: Any) -> T:
        """`compute(*args)`, or what it gave while every one of `sources` was the same object as now."""
        key = (kind, id(sources[0]))
        entry = self._used.get(key) or self._kept.get(key)
        if entry is None or any(held is not source for held, source in zip(entry[0], sources, strict=True)):
            entry = (sources, compute(*args))
        self._used[key] = entry
        return entry[1]

    def next_request(self) -> None:
        """Forget what the request just built did not use."""
        self._kept, self._used = self._used, {}
