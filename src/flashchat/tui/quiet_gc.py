"""Python's full garbage collections, kept out of a streaming reply and done when nobody is waiting."""

from __future__ import annotations

import gc

OLD_GENERATION_EVERY = 2  # while streaming: gen-1 collections between two collections of the unfrozen old generation
IDLE_SECONDS = 2.0  # without input and without a reply streaming, before the postponed full collection runs


def _freeze_survivors(phase: str, info: dict[str, int]) -> None:
    """A `gc.callbacks` hook: after a collection of the old generation, freeze what survived it."""
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()


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
    the app has been idle for `IDLE_SECONDS`; outside streaming the collector works as Python's default.
    """

    # gc settings are process-wide, and tests run many apps in one process
    _streams = 0
    _saved_threshold = gc.get_threshold()

    def __init__(self) -> None:
        self._last_input = 0.0
        self._streaming = False
        self._owes_collection = False

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

    def saw_input(self, now: float) -> None:
        self._last_input = now

    def collect_if_idle(self, now: float, *, busy: bool = False) -> bool:
        """Run the postponed full collection if a reply has ended since the last one and the user is not waiting."""
        if busy or self._streaming or not self._owes_collection or now - self._last_input < IDLE_SECONDS:
            return False
        self._owes_collection = False
        if QuietCollector._streams == 0:
            gc.unfreeze()
            gc.collect()
        return True

    def stop(self) -> None:
        """The app is closing: nothing stays frozen on its account."""
        self.stream_ended()
        if self._owes_collection and QuietCollector._streams == 0:
            gc.unfreeze()
        self._owes_collection = False
