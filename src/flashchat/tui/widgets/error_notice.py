"""Errors and retry countdowns, shown inline under the reply they belong to."""

from __future__ import annotations

import math
from collections.abc import Callable

from textual.content import Content
from textual.timer import Timer
from textual.widgets import Static

from flashchat.core.errors import ErrorKind
from flashchat.render.safe_text import MESSAGE_CHARS, one_line

RETRY_LABELS = {ErrorKind.RATE_LIMIT: "rate limited", ErrorKind.SERVER: "server error"}
# Errors quote what the server said. The app bounds the server's part (`one_line`) so its own hint after it
# survives; this wider bound is the backstop for any text that reaches the notice.
NOTICE_CHARS = 4 * MESSAGE_CHARS


def notice_text(text: str) -> Content:
    """What a notice shows for `text`: one terminal-safe line (wrapped by the widget), bounded."""
    return Content(one_line(text, NOTICE_CHARS))


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
        super().__init__(notice_text(text), classes=f"-{kind}")
        self._countdown: Timer | None = None
        self._retry: tuple[str, int, int, float, Callable[[], float]] | None = None

    def show_retry(
        self, kind: ErrorKind, attempt: int, max_attempts: int, delay_seconds: float, clock: Callable[[], float]
    ) -> None:
        self.set_classes("-retrying")
        label = RETRY_LABELS.get(kind, "connection failed")
        self._retry = (label, attempt, max_attempts, clock() + delay_seconds, clock)
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
        self.update(notice_text(text))

    def _stop_countdown(self) -> None:
        self._retry = None
        if self._countdown is not None:
            self._countdown.stop()
            self._countdown = None

    def on_unmount(self) -> None:
        self._stop_countdown()
