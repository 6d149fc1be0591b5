"""The thinking-level selector: always visible, one click or Ctrl+T to change."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from flashchat.config.settings import THINKING_LEVELS


class LevelOption(Static):
    """One level's name; clicking it picks that level."""

    def __init__(self, level: str) -> None:
        super().__init__(level, id=f"level-{level}", classes="level-option")
        self.level = level

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(LevelSelector.Picked(self.level))


class LevelSelector(Horizontal):
    """minimal · low · medium · high, with the current level highlighted.

    The selector only shows and proposes a level: it posts `LevelSelector.Picked` and the app decides
    (the new level applies from the next request on) and sets `level` back.
    """

    DEFAULT_CSS = """
    LevelSelector {
        width: auto;
        height: 1;
        & > Static {
            width: auto;
        }
        & > .label {
            color: $text-muted;
            padding: 0 1 0 0;
        }
        & > .level-option {
            padding: 0 1;
            color: $text-muted;
            &:hover {
                background: $boost;
                color: $foreground;
            }
            &.-active {
                background: $primary;
                color: $text;
                text-style: bold;
            }
        }
    }
    """

    level: reactive[str] = reactive("medium")

    class Picked(Message):
        def __init__(self, level: str) -> None:
            super().__init__()
            self.level = level

    def __init__(self, level: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.set_reactive(LevelSelector.level, level)

    def compose(self) -> ComposeResult:
        yield Static("thinking", classes="label")
        for level in THINKING_LEVELS:
            yield LevelOption(level)

    def on_mount(self) -> None:
        self.watch_level(self.level)

    def watch_level(self, level: str) -> None:
        for option in self.query(LevelOption):
            option.set_class(option.level == level, "-active")
