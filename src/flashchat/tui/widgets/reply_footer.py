"""The line under a finished reply: its tokens, time to first token, duration and cost."""

from __future__ import annotations

from typing import TypeGuard

from textual.content import Content
from textual.widgets import Static

from flashchat.core.conversation import Message
from flashchat.core.costs import message_cost
from flashchat.render.formatting import reply_usage


class ReplyFooter(Static):
    """Dim, one line at most widths. The cost uses the prices in force now (the table, or the config's keys)."""

    DEFAULT_CSS = """
    ReplyFooter {
        color: $text-muted;
        padding: 0 2;
        height: auto;
    }
    """

    def __init__(self, message: Message) -> None:
        super().__init__()
        self.message = message

    def on_mount(self) -> None:
        settings = getattr(self.app, "settings", None)
        cost = message_cost(self.message, settings) if settings is not None else None
        self.update(Content(reply_usage(self.message, cost)))

    @staticmethod
    def wanted(message: Message | None) -> TypeGuard[Message]:
        """Replies with text and something to report: usage or a measured time (an imported reply may have
        neither). A round that only called tools has no line of its own: the usage panel lists it."""
        return (
            message is not None
            and bool(message.text)
            and (message.usage is not None or message.duration_seconds is not None)
        )
