"""The line under the composer: thinking level, model, endpoint, tools that are on, context use, and what is
happening now."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from flashchat.core.conversation import CONTEXT_WINDOW_TOKENS
from flashchat.render.safe_text import one_line
from flashchat.tui.widgets.level_selector import LevelSelector
from flashchat.tui.widgets.usage_panel import CONTEXT_WARNING_FRACTION

# A status bar is one row: a model or endpoint name (from the config file or the model list) gets this much.
NAME_IN_STATUS_CHARS = 40
STATUS_CHARS = 120


def _label(text: str, limit: int = NAME_IN_STATUS_CHARS) -> Content:
    return Content(one_line(text, limit))


class StatusBar(Horizontal):
    """Always visible, so the thinking level that the next request will use is never a surprise."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        padding: 0 1;
        background: $panel;
        & > Static {
            width: auto;
            padding: 0 1;
            color: $text-muted;
        }
        & > #status-activity {
            width: 1fr;
            text-align: right;
        }
        & > #status-tools {
            color: $text-accent;
        }
        & > #status-context.-warning {
            color: $text-warning;
        }
    }
    """

    def __init__(self, *, level: str, model: str, endpoint: str, id: str | None = None) -> None:
        super().__init__(id=id)
        self._level = level
        self._model = model
        self._endpoint = endpoint
        self._context_text = ""

    def compose(self) -> ComposeResult:
        yield LevelSelector(self._level, id="level-selector")
        yield Static(_label(self._model), id="status-model")
        yield Static(_label(self._endpoint), id="status-endpoint")
        yield Static(id="status-tools")
        yield Static(id="status-context")
        yield Static(id="status-activity")

    def set_model(self, model: str) -> None:
        self.query_one("#status-model", Static).update(_label(model))

    def set_endpoint(self, endpoint: str) -> None:
        self.query_one("#status-endpoint", Static).update(_label(endpoint))

    def set_tools(self, badges: list[str]) -> None:
        """The tools that are on, by short name ("search · files"); nothing while all are off."""
        self.query_one("#status-tools", Static).update(Content(" · ".join(badges)))

    def set_context(self, tokens: int) -> None:
        fraction = tokens / CONTEXT_WINDOW_TOKENS
        label = self.query_one("#status-context", Static)
        text = f"context {fraction:.0%}" if tokens else ""
        if text != self._context_text:
            # Only when the figure changes: a new width means laying out the screen again.
            self._context_text = text
            label.update(Content(text))
        label.set_class(fraction > CONTEXT_WARNING_FRACTION, "-warning")

    def set_activity(self, text: str) -> None:
        self.query_one("#status-activity", Static).update(_label(text, STATUS_CHARS))
