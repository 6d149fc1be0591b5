"""Ask for one line of text: a new conversation title, a system prompt, a file to export to."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class TextPromptScreen(ModalScreen[str | None]):
    """Dismisses with the text entered (stripped), or None on Esc (and on empty text unless `allow_empty`)."""

    DEFAULT_CSS = """
    TextPromptScreen {
        align: center middle;
        & > Vertical {
            width: 70;
            max-width: 100%;
            height: auto;
            padding: 1 2;
            border: thick $primary;
            background: $surface;
        }
        & .prompt-title {
            text-style: bold;
            color: $primary;
            margin: 0 0 1 0;
        }
    }
    """

    BINDINGS = [Binding("escape", "dismiss", "Cancel")]

    def __init__(self, title: str, value: str = "", *, allow_empty: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.allow_empty = allow_empty

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(self.title_text), classes="prompt-title")
            yield Input(value=self.value)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        self.dismiss(text if text or self.allow_empty else None)
