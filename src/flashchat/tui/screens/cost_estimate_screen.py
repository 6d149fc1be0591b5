"""Before a large request leaves: how big it is and what it will cost. Enter sends, Esc goes back."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from flashchat.core.costs import SendEstimate


class CostEstimateScreen(ModalScreen[bool]):
    """Dismisses with True to send, False to go back to the prompt (which keeps what was typed)."""

    DEFAULT_CSS = """
    CostEstimateScreen {
        align: center middle;
        & > Vertical {
            width: 72;
            max-width: 100%;
            height: auto;
            padding: 1 2;
            border: thick $warning;
            background: $surface;
        }
        & .estimate-title {
            text-style: bold;
            color: $text-warning;
        }
        & .estimate-summary {
            text-style: bold;
            margin: 1 0 0 0;
        }
        & .estimate-detail, & .estimate-warning {
            color: $text-muted;
        }
        & .estimate-keys {
            margin: 1 0 0 0;
        }
    }
    """

    BINDINGS = [
        Binding("enter", "send", "Send", priority=True),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, estimate: SendEstimate, *, warning: str = "", threshold: int = 0) -> None:
        super().__init__()
        self.estimate = estimate
        self.attachment_warning = warning
        self.threshold = threshold

    def compose(self) -> ComposeResult:
        with Vertical():
            over = f" (over large_request_tokens, {self.threshold:,})" if self.threshold else ""
            yield Static(Content(f"This request is large{over}"), classes="estimate-title")
            yield Static(Content(self.estimate.summary()), classes="estimate-summary")
            yield Static(Content(self.estimate.detail()), classes="estimate-detail")
            if self.attachment_warning:
                yield Static(Content(self.attachment_warning), classes="estimate-warning")
            yield Static(Content("Enter sends it · Esc goes back to the prompt"), classes="estimate-keys")

    def action_send(self) -> None:
        self.dismiss(True)

    def action_back(self) -> None:
        self.dismiss(False)
