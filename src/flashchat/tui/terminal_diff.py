"""Writes only what changed on the terminal since the last frame, scrolling the terminal itself when the view did.

Textual repaints every widget whose place or size changed, and a scrolling view moves every widget in it: a
reply that streams while the view is pinned to the bottom scrolls a line or two at every frame, so each frame
sent the whole viewport again (about 19 KB at 120x40, 9.6 MB for a 20,000-token reply, 120 times its text).
`TerminalDiff` keeps the rows the terminal shows. For each frame the compositor produces, it
1. spots rows that moved up or down together (the view scrolled) and moves them on the terminal with a scroll
   region (DECSTBM) and line feeds or reverse indexes, which every VT100 descendant understands;
2. then writes, per row, only the cells between the first and the last segment that differ.
What it writes leaves the terminal showing exactly the frame Textual rendered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import cast

from rich.console import Console, RenderableType
from textual._compositor import ChopsUpdate, CompositorUpdate, LayoutUpdate

__all__ = ["CompositorUpdate", "DiffedDisplay", "LayoutUpdate", "TerminalDiff"]
from textual.app import App
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip

MIN_MOVED_ROWS = 3  # fewer rows than this moving together is not worth a scroll


class PrecomputedUpdate(CompositorUpdate):
    """A frame already turned into terminal sequences."""

    def __init__(self, sequences: str) -> None:
        self.sequences = sequences

    def render_segments(self, console: Console) -> str:
        return self.sequences


def _move_to(x: int, y: int) -> str:
    return f"\x1b[{y + 1};{x + 1}H"


def _row_key(strip: Strip) -> str:
    """What identifies a row when it moves: its text without the last cell (a scroll bar changes there)."""
    return strip.text[:-1]


def _changed_span(old: Strip, new: Strip) -> tuple[int, int] | None:
    """The cells [start, end) of `new` that differ from `old`, at segment boundaries; None if none differ."""
    old_segments, new_segments = old._segments, new._segments
    if old_segments == new_segments:
        return None
    start = 0
    shared = min(len(old_segments), len(new_segments))
    index = 0
    while index < shared and old_segments[index] == new_segments[index]:
        start += new_segments[index].cell_length
        index += 1
    end = new.cell_length
    if old.cell_length == new.cell_length:
        back = 1
        while back <= shared - index and old_segments[-back] == new_segments[-back]:
            end -= new_segments[-back].cell_length
            back += 1
    return (start, end) if end > start else None


class TerminalDiff:
    """The rows the terminal shows, and the sequences that turn them into the next frame."""

    def __init__(self) -> None:
        self._rows: list[Strip | None] = []
        self._width = 0

    def forget(self) -> None:
        """The terminal's content is unknown (resize, resume after suspend): the next frame is written whole."""
        self._rows = []

    def reduce(
        self,
        update: CompositorUpdate,
        console: Console,
        width: int,
        height: int,
        rerender_rows: Callable[[list[int]], list[Strip]],
    ) -> CompositorUpdate:
        """The part of `update` the terminal does not already show.

        `rerender_rows(rows)` returns the full-width strips of those screen rows, for an update that carries
        only parts of rows.
        """
        if width != self._width or len(self._rows) != height:
            self._rows = [None] * height
            self._width = width
        if isinstance(update, LayoutUpdate) and update.region == Region(0, 0, width, height):
            frame = {y: Strip.join(line) for y, line in enumerate(update.strips)}
        elif isinstance(update, ChopsUpdate):
            rows = sorted({y for y, _, _ in update.spans if 0 <= y < height})
            frame = {y: row for y in rows if (row := self._patched_row(update, y)) is not None}
            if unknown := [y for y in rows if y not in frame]:
                frame.update(zip(unknown, rerender_rows(unknown), strict=True))
        else:
            self.forget()
            return update
        sequences: list[str] = []
        if len(frame) >= MIN_MOVED_ROWS:
            sequences.append(self._scroll(frame, rerender_rows))
        for y, strip in sorted(frame.items()):
            old = self._rows[y]
            if old is None:
                span: tuple[int, int] | None = (0, strip.cell_length)
            else:
                span = _changed_span(old, strip)
            if span is not None:
                start, end = span
                part = strip if (start, end) == (0, strip.cell_length) else strip.crop(start, end)
                sequences.append(_move_to(start, y))
                sequences.append(part.render(console))
            self._rows[y] = strip
        return PrecomputedUpdate("".join(sequences))

    def _patched_row(self, update: ChopsUpdate, y: int) -> Strip | None:
        """Row `y` after `update`: its re-rendered pieces, and the row as shown where the update left it alone.

        None when a piece is missing and the row as shown is not known.
        """
        old = self._rows[y]
        pieces: list[Strip] = []
        for (x, strip), end in zip(update.chops[y].items(), update.chop_ends[y], strict=True):
            if strip is None:
                if old is None:
                    return None
                strip = old.crop(x, end)
            pieces.append(strip)
        return Strip.join(pieces)

    def _scroll(self, frame: dict[int, Strip], rerender_rows: Callable[[list[int]], list[Strip]]) -> str:
        """Moves the rows that moved together on the terminal; returns the sequences that do it.

        Rows the scroll moves that are not in `frame` (unchanged on screen) are added to it, to be written again.
        """
        old_rows = self._rows
        where: dict[str, list[int]] = {}
        for y, strip in enumerate(old_rows):
            if strip is not None and (key := _row_key(strip)).strip():
                where.setdefault(key, []).append(y)
        votes: Counter[int] = Counter()
        for y, strip in frame.items():
            for old_y in where.get(_row_key(strip), ())[:4]:
                votes[old_y - y] += 1
        if not votes:
            return ""
        shift, moved = votes.most_common(1)[0]
        if shift == 0 or moved < MIN_MOVED_ROWS or moved <= votes[0]:
            return ""
        matched = [y for y, strip in frame.items() if y + shift in _indexes(where.get(_row_key(strip), ()))]
        top, bottom = min(matched), max(matched)
        height = len(old_rows)
        if shift > 0:  # content moved up: old rows top+shift..bottom+shift now show at top..bottom
            first, last = top, min(height - 1, bottom + shift)
            moves = f"\x1b[{first + 1};{last + 1}r\x1b[{last + 1};1H" + "\n" * shift
            kept = old_rows[first + shift : last + 1]
            old_rows[first : last + 1] = [*kept, *[None] * (last + 1 - first - len(kept))]
        else:  # content moved down
            lines = -shift
            first, last = max(0, top - lines), bottom
            moves = f"\x1b[{first + 1};{last + 1}r\x1b[{first + 1};1H" + "\x1bM" * lines
            kept = old_rows[first : last + 1 - lines]
            old_rows[first : last + 1] = [*[None] * (last + 1 - first - len(kept)), *kept]
        if missing := [y for y in range(first, last + 1) if y not in frame]:
            frame.update(zip(missing, rerender_rows(missing), strict=True))
        return "\x1b[0m" + moves + "\x1b[r"


def _indexes(rows: Iterable[int]) -> set[int]:
    return set(rows)


class DiffedDisplay(App[int]):
    """An app that writes each frame through a `TerminalDiff`.

    `App._display` is Textual's private method that writes a frame (checked against Textual 8).
    """

    _terminal_diff: TerminalDiff | None = None

    def _display(self, screen: Screen, renderable: RenderableType | None) -> None:
        if (
            isinstance(renderable, CompositorUpdate)
            and self._running
            and not self._closed
            and not self.is_headless
            and not self.is_inline
            and not self._batch_count
            and self._driver is not None
        ):
            if self._terminal_diff is None:
                self._terminal_diff = TerminalDiff()
            width, height = screen.outer_size
            reduced = self._terminal_diff.reduce(
                renderable, self.console, width, height, lambda rows: _full_rows(screen, width, rows)
            )
            # App._display writes any CompositorUpdate through its render_segments, not as a rich renderable.
            renderable = cast("RenderableType", reduced)
        super()._display(screen, renderable)

    def _resume_signal(self) -> None:
        if self._terminal_diff is not None:
            self._terminal_diff.forget()  # the terminal showed something else while the app was suspended
        super()._resume_signal()


def _full_rows(screen: Screen, width: int, rows: list[int]) -> list[Strip]:
    """Screen rows as the compositor renders them, whole (private compositor API, as in Textual 8)."""
    wanted = set(rows)
    band = Region(0, rows[0], width, rows[-1] - rows[0] + 1)
    chops = screen._compositor._render_chops(band, wanted.__contains__)
    return [Strip.join(strip for strip in chops[y].values() if strip is not None) for y in rows]
