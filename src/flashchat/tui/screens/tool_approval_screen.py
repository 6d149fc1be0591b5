"""Asks before a local tool runs: the model wants to read something in the working directory."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from flashchat.core.conversation import ToolCall
from flashchat.core.session import ToolApproval
from flashchat.render.safe_text import one_line


class ToolApprovalScreen(ModalScreen[ToolApproval]):
    """Shows the call exactly as it will run and dismisses with the user's decision.

    Esc denies: a call nobody approved must not run.
    """

    DEFAULT_CSS = """
    ToolApprovalScreen {
        align: center middle;
        & > Vertical {
            width: 80;
            max-width: 100%;
            height: auto;
            padding: 1 2;
            border: thick $warning;
            background: $surface;
        }
        & .approval-title {
            text-style: bold;
            color: $warning;
        }
        & .approval-call {
            margin: 1 0;
            padding: 0 1;
            background: $boost;
        }
        & .approval-note {
            color: $text-muted;
        }
        & Horizontal {
            height: auto;
            margin: 1 0 0 0;
            align-horizontal: right;
        }
        & Button {
            margin: 0 0 0 1;
        }
    }
    """

    BINDINGS = [
        Binding("a", "decide('always')", "Always allow this tool"),
        Binding("o", "decide('once')", "Allow once"),
        Binding("d,escape", "decide('deny')", "Deny"),
    ]

    def __init__(self, call: ToolCall) -> None:
        super().__init__()
        self.call = call

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("The model wants to run a local tool", classes="approval-title")
            yield Static(Content(one_line(self.call.describe())), classes="approval-call")
            yield Static(
                "Read-only, inside the directory flashchat started in. "
                "Always allows this tool for the rest of the session.",
                classes="approval-note",
            )
            with Horizontal():
                yield Button("Always (a)", id="always", variant="warning")
                yield Button("Once (o)", id="once", variant="primary")
                yield Button("Deny (d)", id="deny", variant="error")

    def on_mount(self) -> None:
        self.query_one("#once", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.action_decide(event.button.id or "deny")

    def action_decide(self, decision: str) -> None:
        self.dismiss(ToolApproval(decision))
