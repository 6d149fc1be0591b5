"""One line in the conversation per local tool call: what the model asked for, then how it went."""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.widgets import Static

from flashchat.core.conversation import ToolCall
from flashchat.render.safe_text import one_line


def tool_outcome(response: dict[str, Any], approved: bool, declared: bool = True) -> str:
    """`done`, `denied` or `error: ...` (the error text names a path the model chose: one bounded line)."""
    if not declared:
        return "not a flashchat tool: not run, answered with an error"
    if not approved:
        return "denied"
    if "error" in response:
        return f"error: {one_line(response['error'])}"
    return "done"


class ToolCallNotice(Static):
    """Mounted when the model requests a call (the approval dialog is up), updated when the call has run,
    so the conversation keeps a record of what was read on the user's behalf."""

    DEFAULT_CSS = """
    ToolCallNotice {
        height: auto;
        margin: 0 2 1 2;
        padding: 0 1;
        border-left: outer $secondary;
        color: $text-muted;
        &.-denied {
            border-left: outer $warning;
        }
        &.-failed {
            border-left: outer $error;
        }
    }
    """

    def __init__(self, call: ToolCall | None, *, stored_summary: str = "") -> None:
        """`call` for a live call; None with `stored_summary` for the tool results of a reopened conversation."""
        if call is not None:
            text = f"⚙ {one_line(call.describe())} · waiting for approval"
        else:
            text = f"⚙ {one_line(stored_summary)}"
        super().__init__(Content(text))
        self.call = call

    @property
    def stands_for_a_stored_message(self) -> bool:
        return self.call is None

    def show_outcome(self, response: dict[str, Any], approved: bool, declared: bool = True) -> None:
        assert self.call is not None
        self.set_class(not approved, "-denied")
        self.set_class(approved and "error" in response, "-failed")
        outcome = tool_outcome(response, approved, declared)
        self.update(Content(f"⚙ {one_line(self.call.describe())} · {outcome}"))

    def show_stopped(self) -> None:
        assert self.call is not None
        self.set_class(True, "-denied")
        self.update(Content(f"⚙ {one_line(self.call.describe())} · stopped before it ran"))
