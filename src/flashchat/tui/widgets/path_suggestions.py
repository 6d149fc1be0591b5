"""The popup over the composer that completes `@path` mentions with the project's files."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from flashchat.render.safe_text import one_line

MAX_SUGGESTIONS = 8


def matching_paths(paths: list[str], prefix: str, limit: int = MAX_SUGGESTIONS) -> list[str]:
    """Paths starting with `prefix` first (what the user is typing out), then paths containing it anywhere."""
    starting = [path for path in paths if path.startswith(prefix)]
    if len(starting) >= limit:
        return starting[:limit]
    containing = [path for path in paths if prefix in path and not path.startswith(prefix)]
    return (starting + containing)[:limit]


class PathSuggestions(OptionList, can_focus=False):
    """Never takes focus: the composer keeps it and forwards Up, Down, Tab, Enter and Esc while this shows,
    so typing carries on uninterrupted."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.paths: list[str] = []

    DEFAULT_CSS = """
    PathSuggestions {
        height: auto;
        max-height: 10;
        margin: 0 1;
        border: round $accent;
        background: $surface;
    }
    """

    def show_paths(self, paths: list[str]) -> None:
        # A file name in the repository can hold anything, a newline or an escape sequence: shown safe, while
        # completing inserts the real name.
        self.set_options(Option(Content(one_line(path, 200))) for path in paths)
        self.paths = paths
        self.highlighted = 0 if paths else None
        self.display = bool(paths)

    def hide(self) -> None:
        self.display = False
        self.paths = []

    def move(self, step: int) -> None:
        if self.paths:
            self.highlighted = ((self.highlighted or 0) + step) % len(self.paths)

    @property
    def chosen(self) -> str | None:
        if not self.display or self.highlighted is None or not self.paths:
            return None
        return self.paths[self.highlighted]
