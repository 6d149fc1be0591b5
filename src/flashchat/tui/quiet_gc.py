"""Python's full garbage collections, kept for moments when nobody is waiting for the screen."""

from __future__ import annotations

import gc

OLD_GENERATION_EVERY = 2  # gen-1 collections between two collections of the (unfrozen) old generation
IDLE_SECONDS = 2.0  # without input and without a reply streaming, before the full collection runs


class QuietCollector:
    """Keeps CPython's full garbage collections out of the way of typing and streaming.

    Textual makes a lot of short-lived cyclic garbage while it renders (every `Strip` keeps caches that can
    hold the strip itself), so a streaming reply triggered a full collection about once a second, and each
    one walked every object the app holds: 27 ms on average, 66 ms at worst, and up to 500 ms once a stream
    had ended (bench/tui.py, paced run) — stalls that land in front of key echoes.

    So the objects that survive a collection of the oldest generation are frozen (`gc.freeze`): they are
    the app, its widgets and the conversation, alive anyway, and later collections only walk what was
    allocated since. Those then take 2-8 ms, and run every `OLD_GENERATION_EVERY` gen-1 collections instead
    of every 10, so garbage is still found soon. What becomes garbage after being frozen (removed widgets,
    evicted render caches) is reclaimed by one full collection once the app is idle: no input for
    `IDLE_SECONDS` and no reply streaming.
    """

    # gc settings are process-wide, and tests run many apps in one process
    _running = 0
    _saved_threshold = gc.get_threshold()

    def __init__(self) -> None:
        self._last_input = 0.0
        self._frozen_since_collection = False

    def start(self, now: float) -> None:
        self._last_input = now
        if QuietCollector._running == 0:
            QuietCollector._saved_threshold = gc.get_threshold()
            first, second, _ = QuietCollector._saved_threshold
            gc.set_threshold(first, second, OLD_GENERATION_EVERY)
        QuietCollector._running += 1
        gc.callbacks.append(self._after_collection)
        gc.freeze()

    def stop(self) -> None:
        if self._after_collection not in gc.callbacks:
            return
        gc.callbacks.remove(self._after_collection)
        QuietCollector._running -= 1
        if QuietCollector._running == 0:
            gc.set_threshold(*QuietCollector._saved_threshold)
            gc.unfreeze()

    def saw_input(self, now: float) -> None:
        self._last_input = now

    def collect_if_idle(self, now: float, *, busy: bool) -> bool:
        """Run the full collection if something was frozen since the last one and the user is not waiting."""
        if busy or not self._frozen_since_collection or now - self._last_input < IDLE_SECONDS:
            return False
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self._frozen_since_collection = False  # the collection above froze what survived it
        return True

    def _after_collection(self, phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            gc.freeze()
            self._frozen_since_collection = True
