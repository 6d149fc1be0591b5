"""Token usage: the last turn, the conversation, the context window and, when prices are set, the cost."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from flashchat.config.settings import Settings
from flashchat.core.conversation import CONTEXT_WINDOW_TOKENS, Conversation, Usage, estimated_cost
from flashchat.render.formatting import count, seconds, usd

CONTEXT_WARNING_FRACTION = 0.8
METER_WIDTH = 24


def usage_line(usage: Usage) -> str:
    return (
        f"prompt {count(usage.prompt)} · thoughts {count(usage.thoughts)} · output {count(usage.output)} · "
        f"cached {count(usage.cached)}"
    )


def context_text(tokens: int, window: int = CONTEXT_WINDOW_TOKENS) -> str:
    return f"{count(tokens)} / {count(window)} tokens, {tokens / window:.0%}"


def meter(fraction: float, width: int = METER_WIDTH) -> str:
    filled = round(min(1.0, max(0.0, fraction)) * width)
    return "█" * filled + "░" * (width - filled)


class UsagePanel(Vertical):
    """Shown and hidden with Ctrl+U. The app calls `refresh_from` after each turn and `show_live` while
    usage updates stream in (the server sends a running total with every chunk)."""

    DEFAULT_CSS = """
    UsagePanel {
        height: auto;
        padding: 0 1;
        border-top: solid $border-blurred;
        background: $surface;
        & > Static {
            height: 1;
        }
        & > #usage-context.-warning {
            color: $text-warning;
            text-style: bold;
        }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.last_usage: Usage | None = None
        self.first_token_seconds: float | None = None
        self.total_usage = Usage()
        self.context_tokens = 0

    def compose(self) -> ComposeResult:
        yield Static(id="usage-last")
        yield Static(id="usage-total")
        yield Static(id="usage-context")
        yield Static(id="usage-cost")

    def refresh_from(self, conversation: Conversation, settings: Settings) -> None:
        reply = conversation.last_reply(with_usage=True)
        self.last_usage = reply.usage if reply else None
        self.first_token_seconds = reply.first_token_seconds if reply else None
        self.total_usage = conversation.total_usage()
        self.context_tokens = conversation.context_tokens()
        replies = sum(1 for m in conversation.messages if m.role == "model" and m.usage is not None)
        self._show(settings, replies)

    def show_live(self, usage: Usage, settings: Settings, conversation: Conversation) -> None:
        """Usage of the reply still streaming: it is the last turn, and counts towards the totals."""
        self.last_usage = usage
        self.first_token_seconds = None
        self.total_usage = conversation.total_usage() + usage
        self.context_tokens = usage.context_size()
        replies = sum(1 for m in conversation.messages if m.role == "model" and m.usage is not None) + 1
        self._show(settings, replies)

    def _show(self, settings: Settings, replies: int) -> None:
        last = self.last_usage
        if last is None:
            last_text = "Last turn      no reply yet"
        else:
            last_text = f"Last turn      {usage_line(last)} · first token {seconds(self.first_token_seconds)}"
        total = self.total_usage
        noun = "reply" if replies == 1 else "replies"
        total_text = f"Conversation   {usage_line(total)} · total {count(total.total)} · {replies} {noun}"
        fraction = self.context_tokens / CONTEXT_WINDOW_TOKENS
        context = self.query_one("#usage-context", Static)
        self._set_line(context, f"Context        {meter(fraction)} {context_text(self.context_tokens)}")
        context.set_class(fraction > CONTEXT_WARNING_FRACTION, "-warning")
        self._set_line(self.query_one("#usage-last", Static), last_text)
        self._set_line(self.query_one("#usage-total", Static), total_text)
        cost_line = self.query_one("#usage-cost", Static)
        turn_cost = estimated_cost(last, settings) if last is not None else None
        total_cost = estimated_cost(total, settings)
        cost_line.display = total_cost is not None
        if total_cost is not None:
            self._set_line(cost_line, f"Estimated cost {usd(turn_cost)} last turn · {usd(total_cost)} conversation")

    @staticmethod
    def _set_line(line: Static, text: str) -> None:
        # Each line is one row high whatever it says: no layout pass, which while a reply streams would
        # re-lay out the whole conversation four times a second for nothing.
        line.update(Content(text), layout=False)
