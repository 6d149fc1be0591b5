"""Recent conversations from the store: search, open, rename, delete."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from flashchat.render.formatting import bounded_pieces, count_noun
from flashchat.render.safe_text import NAME_CHARS, one_line


@dataclass(frozen=True)
class HistoryEntry:
    """One line of the list: a conversation (from the recent list or a search hit)."""

    conversation_id: str
    title: str
    detail: str  # message and token counts, or the search snippet without its markers
    # A search hit's snippet as (text, matched) pieces; the matched words are highlighted.
    snippet: tuple[tuple[str, bool], ...] = ()


class HistoryList(OptionList):
    """The list itself; r renames and d deletes the highlighted conversation."""

    BINDINGS = [
        Binding("r", "rename", "Rename"),
        Binding("d,delete", "delete", "Delete"),
    ]

    def action_rename(self) -> None:
        self.post_message(HistorySidebar.Rename(self._highlighted_id()))

    def action_delete(self) -> None:
        self.post_message(HistorySidebar.Delete(self._highlighted_id()))

    def _highlighted_id(self) -> str | None:
        if self.highlighted is None:
            return None
        return self.get_option_at_index(self.highlighted).id


class HistorySidebar(Vertical):
    """Shown with Ctrl+B. Typing in the search box searches every message; an empty box lists the most
    recent conversations. Enter opens one. The app answers `Search` with `show_entries`."""

    DEFAULT_CSS = """
    HistorySidebar {
        dock: left;
        width: 40;
        height: 1fr;
        background: $panel;
        border-right: vkey $border-blurred;
        & > .sidebar-title {
            text-style: bold;
            color: $primary;
            padding: 0 1;
        }
        & > Input {
            margin: 0 0 1 0;
        }
        & > HistoryList {
            height: 1fr;
            background: $panel;
            border: none;
        }
        & > .sidebar-empty {
            color: $text-muted;
            padding: 0 1;
        }
    }
    """

    class Search(Message):
        def __init__(self, query: str) -> None:
            super().__init__()
            self.query = query

    class Open(Message):
        def __init__(self, conversation_id: str) -> None:
            super().__init__()
            self.conversation_id = conversation_id

    class Rename(Message):
        def __init__(self, conversation_id: str | None) -> None:
            super().__init__()
            self.conversation_id = conversation_id

    class Delete(Message):
        def __init__(self, conversation_id: str | None) -> None:
            super().__init__()
            self.conversation_id = conversation_id

    BINDINGS = [Binding("down", "focus_list", "To the list", show=False)]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.entries: list[HistoryEntry] = []

    def compose(self) -> ComposeResult:
        yield Static("History", classes="sidebar-title")
        yield Input(placeholder="Search all messages…", id="history-search")
        yield Static("", classes="sidebar-empty")
        yield HistoryList(id="history-list")

    @property
    def query_text(self) -> str:
        return self.query_one("#history-search", Input).value.strip()

    def show_entries(self, entries: list[HistoryEntry], *, empty_text: str) -> None:
        self.entries = entries
        options = [
            Option(
                # The title on one line, cut with "…" so a long one never pushes the "N messages" line out of
                # the entry; a search snippet wraps, so the matched words stay in view. Text, not markup: a
                # message's own `[brackets]` show as typed.
                Group(
                    Text(one_line(entry.title, NAME_CHARS) or "(untitled)", "bold", no_wrap=True, overflow="ellipsis"),
                    Text.assemble(*self._detail(entry)),
                ),
                id=entry.conversation_id,
            )
            for entry in entries
        ]
        history = self.query_one(HistoryList)
        history.set_options(options)
        history.highlighted = 0 if options else None
        empty = self.query_one(".sidebar-empty", Static)
        empty.update(Content(empty_text))
        empty.display = not entries

    @staticmethod
    def _detail(entry: HistoryEntry) -> list[tuple[str, str]]:
        """Under the title: the counts, or the search snippet with the matched words stressed."""
        if not entry.snippet:
            return [(one_line(entry.detail, 2 * NAME_CHARS), "dim")]
        pieces = bounded_pieces(entry.snippet, 2 * NAME_CHARS)
        return [(text, "bold reverse" if matched else "dim") for text, matched in pieces]

    def action_focus_list(self) -> None:
        """Down in the search box moves into the list (the list's own Down moves within it)."""
        history = self.query_one(HistoryList)
        if history.option_count:
            history.focus()

    @on(Input.Changed, "#history-search")
    def _search(self, event: Input.Changed) -> None:
        self.post_message(self.Search(event.value.strip()))

    @on(Input.Submitted, "#history-search")
    def _to_list(self) -> None:
        self.query_one(HistoryList).focus()

    @on(OptionList.OptionSelected, "#history-list")
    def _open(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.post_message(self.Open(event.option.id))


def summary_detail(message_count: int, total_tokens: int) -> str:
    return f"{count_noun(message_count, 'message')} · {count_noun(total_tokens, 'token')}"
