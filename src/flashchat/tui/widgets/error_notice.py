"""Errors and retry countdowns, shown inline under the reply they belong to."""

from __future__ import annotations

import math
from collections.abc import Callable

from textual.content import Content
from textual.timer import Timer
from textual.widgets import Static


def retry_label(reason: str) -> str:
    """A short name for why the engine is retrying.

    `Retrying` carries the error's sentence but not its kind, so the kind is read back from the sentence the
    engine writes for a 429 or a 5xx (see providers/gemini.py).
    """
    if "(429)" in reason or reason.lower().startswith("rate limited"):
        return "rate limited"
    if "server error" in reason.lower():
        return "server error"
    return "connection failed"


class ErrorNotice(Static):
    """A one-paragraph notice: what went wrong and which key fixes it, or a live retry countdown.

    The countdown reads the app's clock (injectable, so snapshots stay deterministic) and redraws four times
    a second until the engine's next attempt starts.
    """

    DEFAULT_CSS = """
    ErrorNotice {
        height: auto;
        margin: 0 2 1 2;
        padding: 0 1;
        border-left: outer $error;
        color: $text-error;
        background: $error 10%;
        &.-retrying {
            border-left: outer $warning;
            color: $text-warning;
            background: $warning 10%;
        }
        &.-notice {
            border-left: outer $secondary;
            color: $text-muted;
            background: transparent;
        }
    }
    """

    def __init__(self, text: str = "", *, kind: str = "error") -> None:
        super().__init__(Content(text), classes=f"-{kind}")
        self._countdown: Timer | None = None
        self._retry: tuple[str, int, int, float, Callable[[], float]] | None = None

    def show_retry(
        self, reason: str, attempt: int, max_attempts: int, delay_seconds: float, clock: Callable[[], float]
    ) -> None:
        self.set_classes("-retrying")
        self._retry = (retry_label(reason), attempt, max_attempts, clock() + delay_seconds, clock)
        self._tick()
        if self._countdown is None:
            self._countdown = self.set_interval(0.25, self._tick)

    @property
    def retrying(self) -> bool:
        return self._retry is not None

    def _tick(self) -> None:
        if self._retry is None:
            return
        label, attempt, max_attempts, deadline, clock = self._retry
        remaining = max(0, math.ceil(deadline - clock()))
        if remaining:
            text = f"{label}, retrying in {remaining} s, attempt {attempt} of {max_attempts}"
        else:
            text = f"{label}, retrying now, attempt {attempt} of {max_attempts}"
        self.update(Content(text))

    def show_error(self, text: str, *, kind: str = "error") -> None:
        self._stop_countdown()
        self.set_classes(f"-{kind}")
        self.update(Content(text))

    def _stop_countdown(self) -> None:
        self._retry = None
        if self._countdown is not None:
            self._countdown.stop()
            self._countdown = None

    def on_unmount(self) -> None:
        self._stop_countdown()
