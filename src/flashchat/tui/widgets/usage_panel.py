"""Token usage: every reply of the conversation as a row, the totals, and the context window.

The columns fit 80 terminal columns with the largest counts the context window allows (1,048,576), so
nothing is cut on a small screen; cost shows when the model's price is known (config/prices.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static

from flashchat.config.settings import Settings
from flashchat.core.conversation import CONTEXT_WINDOW_TOKENS, Conversation, Usage
from flashchat.core.costs import estimated_cost, message_cost
from flashchat.render.formatting import count, seconds, usd

CONTEXT_WARNING_FRACTION = 0.8
METER_WIDTH = 20
# Name and width of each column; every row is these joined by one space (69 characters).
COLUMNS = (
    ("reply", 5),
    ("prompt", 9),
    ("cached", 9),
    ("thinking", 8),
    ("output", 7),
    ("1st token", 9),
    ("time", 7),
    ("cost", 8),
)


@dataclass(frozen=True)
class TurnRow:
    """One reply's figures (None: not measured, shown as –)."""

    label: str
    usage: Usage
    first_token_seconds: float | None
    duration_seconds: float | None
    cost: float | None


def table_line(cells: Sequence[str]) -> str:
    label, *figures = cells
    widths = [width for _, width in COLUMNS]
    right = (cell.rjust(width) for cell, width in zip(figures, widths[1:], strict=True))
    return " ".join([label.ljust(widths[0]), *right])


def header_line() -> str:
    return table_line([name for name, _ in COLUMNS])


def row_line(row: TurnRow) -> str:
    usage = row.usage
    return table_line(
        [
            row.label,
            count(usage.prompt),
            count(usage.cached),
            count(usage.thoughts),
            count(usage.output),
            seconds(row.first_token_seconds),
            seconds(row.duration_seconds),
            usd(row.cost),
        ]
    )


def context_text(tokens: int, window: int = CONTEXT_WINDOW_TOKENS) -> str:
    return f"{count(tokens)} / {count(window)} tokens, {tokens / window:.0%}"


def meter(fraction: float, width: int = METER_WIDTH) -> str:
    filled = round(min(1.0, max(0.0, fraction)) * width)
    return "█" * filled + "░" * (width - filled)


def turn_rows(conversation: Conversation, settings: Settings) -> list[TurnRow]:
    replies = [m for m in conversation.messages if m.role == "model" and m.usage is not None]
    return [
        TurnRow(f"#{number}", m.usage, m.first_token_seconds, m.duration_seconds, message_cost(m, settings))
        for number, m in enumerate(replies, start=1)
        if m.usage is not None
    ]


def total_row(rows: Sequence[TurnRow]) -> TurnRow:
    usage = sum((row.usage for row in rows), Usage())
    costs = [row.cost for row in rows if row.cost is not None]
    durations = [row.duration_seconds for row in rows if row.duration_seconds is not None]
    return TurnRow("total", usage, None, sum(durations) if durations else None, sum(costs) if costs else None)


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
        & > #usage-header {
            color: $text-muted;
        }
        & > #usage-rows {
            height: auto;
            max-height: 6;
            scrollbar-size-vertical: 1;
        }
        & > #usage-rows > Static {
            height: auto;
        }
        & > #usage-total {
            text-style: bold;
        }
        & > #usage-context.-warning {
            color: $text-warning;
            text-style: bold;
        }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[TurnRow] = []
        self.context_tokens = 0
        self._shown_row_count = -1

    def compose(self) -> ComposeResult:
        yield Static(Content(header_line()), id="usage-header")
        with VerticalScroll(id="usage-rows", can_focus=False):
            yield Static(id="usage-turns")
        yield Static(id="usage-total")
        yield Static(id="usage-context")

    def on_mount(self) -> None:
        self.query_one("#usage-rows", VerticalScroll).anchor()

    def refresh_from(self, conversation: Conversation, settings: Settings) -> None:
        self.rows = turn_rows(conversation, settings)
        self.context_tokens = conversation.context_tokens()
        self._show()

    def show_live(self, usage: Usage, settings: Settings, conversation: Conversation) -> None:
        """Usage of the reply still streaming: the last row (timings not known yet), counted in the totals."""
        rows = turn_rows(conversation, settings)
        live = TurnRow(f"#{len(rows) + 1}", usage, None, None, estimated_cost(usage, settings))
        self.rows = [*rows, live]
        self.context_tokens = usage.context_size()
        self._show()

    def _show(self) -> None:
        turns = self.query_one("#usage-turns", Static)
        text = "\n".join(row_line(row) for row in self.rows) if self.rows else "no reply yet"
        # A new row needs a layout pass; a row whose numbers changed does not. While a reply streams the live
        # row changes four times a second, and re-laying out the whole conversation each time is wasted work.
        layout = len(self.rows) != self._shown_row_count
        self._shown_row_count = len(self.rows)
        turns.update(Content(text), layout=layout)
        self._set_line(self.query_one("#usage-total", Static), row_line(total_row(self.rows)))
        fraction = self.context_tokens / CONTEXT_WINDOW_TOKENS
        context = self.query_one("#usage-context", Static)
        self._set_line(context, f"context {meter(fraction)} {context_text(self.context_tokens)}")
        context.set_class(fraction > CONTEXT_WARNING_FRACTION, "-warning")

    @staticmethod
    def _set_line(line: Static, text: str) -> None:
        # Each line is one row high whatever it says: no layout pass (see `_show`).
        line.update(Content(text), layout=False)
