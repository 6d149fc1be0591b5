"""What the user sent, as plain text (never Markdown, never markup)."""

from __future__ import annotations

from textual import events
from textual.content import Content
from textual.widgets import Static

from flashchat.render.formatting import count
from flashchat.render.safe_text import terminal_safe

PREVIEW_LINES = 12


class UserMessage(Static):
    """A user turn. A long message (a pasted file) shows its first lines; a click shows all of it."""

    DEFAULT_CSS = """
    UserMessage {
        height: auto;
        margin: 1 2 1 2;
        padding: 0 1;
        border-left: outer $primary;
        background: $primary 8%;
    }
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._lines = terminal_safe(text).split("\n")
        self.expanded = len(self._lines) <= PREVIEW_LINES
        super().__init__(self._content())

    def _content(self) -> Content:
        if self.expanded:
            return Content("\n".join(self._lines))
        hidden = len(self._lines) - PREVIEW_LINES
        preview = Content("\n".join(self._lines[:PREVIEW_LINES]))
        return Content.assemble(preview, (f"\n… {count(hidden)} more lines (click to show)", "dim italic"))

    def on_click(self, event: events.Click) -> None:
        if len(self._lines) > PREVIEW_LINES:
            self.expanded = not self.expanded
            self.update(self._content())
