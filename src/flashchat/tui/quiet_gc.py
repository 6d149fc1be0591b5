"""Python's full garbage collections, kept out of a streaming reply and done when nobody is waiting."""

from __future__ import annotations

import functools
import gc
import sys
from collections.abc import Callable

OLD_GENERATION_EVERY = 2  # while streaming: gen-1 collections between two collections of the unfrozen old generation
IDLE_SECONDS = 2.0  # without input and without a reply streaming, before the postponed full collection runs
# Replies that may end without the postponed collection having found an idle moment; the next one to end runs it
# at once. Frozen garbage is never freed, so a user who keeps typing between replies (or a script) grew the heap
# by ~16,000 objects (~2.5 MB of RSS) a turn without bound: 88 -> 227 MB over 50 turns (bench/tui.py
# --only long-session). A full collection of the steady-state heap takes ~30 ms; paid once every few replies.
MAX_UNCOLLECTED_REPLIES = 3


def _freeze_survivors(phase: str, info: dict[str, int]) -> None:
    """A `gc.callbacks` hook: after a collection of the old generation, freeze what survived it."""
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()


def return_free_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc's malloc_trim); nothing elsewhere.

    glibc keeps freed memory for reuse, so RSS stays at the streaming peak. After a 20,000-token reply and the
    idle collection this gave 134 -> 125 MB and 142 -> 132 MB after a second one (one-off, in-process); most
    of what stays is Python's own object arenas, which CPython frees only when they are entirely empty.
    """
    trim = malloc_trim_function()
    if trim is not None:
        trim(0)


@functools.cache  # looked up once; None when the C library has none
def malloc_trim_function() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:  # glibc's soname: ctypes.util.find_library would run ldconfig, ~0.3 s
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # musl and others have no malloc_trim
        return None


class QuietCollector:
    """Keeps CPython's full garbage collections out of the way while a reply streams.

    Textual makes a lot of short-lived cyclic garbage while it renders (every `Strip` keeps caches that can
    hold the strip itself), so a streaming reply triggered a full collection about once a second, and each
    one walked every object the app holds: 27 ms on average and 66 ms at worst during a 20,000-token reply
    (bench/tui.py, paced run), stalls that land in front of key echoes.

    While a reply streams, everything alive when it started and whatever survives a collection of the old
    generation is frozen (`gc.freeze`): the app, its widgets and the conversation, alive anyway, so later
    collections only walk what was allocated since. Those take 2-8 ms, and run every `OLD_GENERATION_EVERY`
    gen-1 collections instead of every 10, so short-lived garbage is still found soon. What becomes garbage
    after being frozen (evicted render caches) waits for one full collection, run once the reply has ended and
    the app has been idle for `IDLE_SECONDS`, or at the end of a reply once `MAX_UNCOLLECTED_REPLIES` have
    ended without one; outside streaming the collector works as Python's default.
    """

    # gc settings are process-wide, and tests run many apps in one process
    _streams = 0
    _saved_threshold = gc.get_threshold()

    def __init__(self) -> None:
        self._last_input = 0.0
        self._streaming = False
        self._owes_collection = False
        self._uncollected_replies = 0  # replies ended since the last postponed collection

    def stream_started(self) -> None:
        if self._streaming:
            return
        self._streaming = True
        if QuietCollector._streams == 0:
            QuietCollector._saved_threshold = gc.get_threshold()
            first, second, _ = QuietCollector._saved_threshold
            gc.set_threshold(first, second, OLD_GENERATION_EVERY)
            gc.callbacks.append(_freeze_survivors)
        QuietCollector._streams += 1
        gc.freeze()
        self._owes_collection = True

    def stream_ended(self) -> None:
        if not self._streaming:
            return
        self._streaming = False
        QuietCollector._streams -= 1
        if QuietCollector._streams == 0:
            gc.callbacks.remove(_freeze_survivors)
            gc.set_threshold(*QuietCollector._saved_threshold)
        self._uncollected_replies += 1
        if self._uncollected_replies >= MAX_UNCOLLECTED_REPLIES:
            self._collect()

    def saw_input(self, now: float) -> None:
        self._last_input = now

    def collect_if_idle(self, now: float, *, busy: bool = False) -> bool:
        """Run the postponed full collection if a reply has ended since the last one and the user is not waiting."""
        if busy or self._streaming or not self._owes_collection or now - self._last_input < IDLE_SECONDS:
            return False
        self._collect()
        return_free_memory()
        return True

    def _collect(self) -> None:
        self._owes_collection = False
        self._uncollected_replies = 0
        if QuietCollector._streams == 0:
            gc.unfreeze()
            gc.collect()

    def stop(self) -> None:
        """The app is closing: nothing stays frozen on its account."""
        self.stream_ended()
        if self._owes_collection and QuietCollector._streams == 0:
            gc.unfreeze()
        self._owes_collection = False
