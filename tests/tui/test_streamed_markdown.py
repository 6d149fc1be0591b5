"""A reply segment streamed in small pieces ends up exactly as the same text rendered whole, and reads as Markdown.

Streaming takes shortcuts (only the block that grew is rendered again, an open fence is plain text), and a
segment that ends at a cut is never rendered again, so what streaming shows must be what a fresh render shows.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator

import pytest
from textual.app import App, ComposeResult
from textual.color import Color
from textual.containers import VerticalScroll
from textual.geometry import Offset
from textual.pilot import Pilot
from textual.selection import Selection

from flashchat.tui.widgets.reply_segment import ReplySegment
from flashchat.tui.widgets.thoughts_block import ThoughtsBlock

LISTS_AND_CODE = (
    """Intro paragraph.

- first item
- second item with `code` and **bold**
  continued lazily on a second line
- third

  with a second paragraph
- nested:
  - inner one
  - inner two
- last

Between the lists.

"""
    + "".join(f"{number}. item number {number}\n" for number in range(1, 13))
    + """
A paragraph, then a list that starts at three:

3. three
4. four

- an item holding code:

  ```python
  x = 1
  ```
- after the code

## A heading

```python
def f(value):
\treturn value * 2
```

| a | b |
|---|---|
| 1 | 2 |

Final words.
"""
)


class SegmentApp(App):
    def compose(self) -> ComposeResult:
        yield VerticalScroll(id="view")


def shown(segment: ReplySegment) -> list[tuple[str, tuple]]:
    """Every line the segment draws: its text and the styles of its pieces."""
    lines = []
    for y in range(segment.size.height):
        strip = segment.render_line(y)
        lines.append((strip.text, tuple((piece.text, piece.style) for piece in strip)))
    return lines


def texts(segment: ReplySegment) -> list[str]:
    return [text.rstrip() for text, _ in shown(segment)]


@contextlib.asynccontextmanager
async def mounted(segment: ReplySegment, size: tuple[int, int] = (100, 80)) -> AsyncIterator[Pilot]:
    app = SegmentApp()
    async with app.run_test(size=size) as pilot:
        await app.query_one("#view").mount(segment)
        await pilot.pause()
        yield pilot


async def streamed_lines(text: str, chunk: int) -> list[tuple[str, tuple]]:
    segment = ReplySegment(streaming=True)
    async with mounted(segment) as pilot:
        for start in range(0, len(text), chunk):
            await segment.write(text[start : start + chunk])
            if start % (chunk * 7) == 0:
                await pilot.pause()  # let some flushes render partial text
        await segment.finish(rerender=False)
        await pilot.pause()
        return shown(segment)


@pytest.mark.parametrize("chunk", [2, 9, 50])
async def test_a_streamed_segment_shows_exactly_the_lines_of_the_whole_text(chunk: int) -> None:
    whole = ReplySegment(LISTS_AND_CODE)
    async with mounted(whole) as pilot:
        await pilot.pause()
        expected = shown(whole)
    assert await streamed_lines(LISTS_AND_CODE, chunk) == expected


async def test_lists_tables_headings_and_fences_read_as_markdown() -> None:
    segment = ReplySegment(LISTS_AND_CODE)
    async with mounted(segment):
        lines = texts(segment)
        app_variables = segment.app.theme_variables
        heading = next(pieces for text, pieces in shown(segment) if text.strip() == "A heading")
    for line in [
        "• first item",
        "  ▪ inner one",
        "  1. item number 1",
        " 12. item number 12",
        " 3. three",
        "    x = 1",  # a fence inside a list item
        "          return value * 2",  # a tab is eight columns, after the fence's padding
    ]:
        assert line in lines, line
    assert any(line.startswith("│ a ") and line.endswith("│") and " │ b " in line for line in lines)  # a table
    assert "**bold**" not in "\n".join(lines) and "## A heading" not in lines
    heading_colour = next(style.color for text, style in heading if text.strip())
    assert heading_colour.triplet.hex == Color.parse(app_variables["markdown-h2-color"]).hex.lower()


async def test_an_open_fence_streams_as_plain_text_and_is_highlighted_without_a_jump() -> None:
    segment = ReplySegment(streaming=True)
    async with mounted(segment) as pilot:
        await segment.write("Code:\n\n```python\n")
        for number in range(40):
            await segment.write(f"value_{number} = {number}\n")
        await pilot.pause(0.2)
        height = segment.size.height - segment.blank_rows  # the rows its text takes
        assert height == 1 + 1 + (1 + 40 + 1) + 1  # text, margin, padded fence, margin
        code_line = next(pieces for text, pieces in shown(segment) if "value_39 = 39" in text)
        assert len({style for text, style in code_line if text.strip()}) == 1  # plain while open
        await segment.finish()
        await pilot.pause()
        assert segment.size.height == height  # highlighting does not make the reply jump; no blank rows left
        code_line = next(pieces for text, pieces in shown(segment) if "value_39 = 39" in text)
        assert len({style for text, style in code_line if text.strip()}) > 1  # coloured now


async def test_closing_a_fence_while_streaming_highlights_it_in_place() -> None:
    segment = ReplySegment(streaming=True)
    async with mounted(segment) as pilot:
        await segment.write("```python\nvalue = 1\n")
        await pilot.pause(0.2)
        before = texts(segment)
        await segment.write("```\n")
        await pilot.pause(0.2)
        assert texts(segment) == before
        code_line = next(pieces for text, pieces in shown(segment) if "value = 1" in text)
        assert len({style for text, style in code_line if text.strip()}) > 1


async def test_a_mouse_drag_selects_and_copies_the_text_shown() -> None:
    segment = ReplySegment("First line of the reply.\n\n- an item\n- another item\n")
    async with mounted(segment) as pilot:
        await pilot.mouse_down(segment, offset=(2 + 6, 0))  # the segment's padding is two columns
        await pilot.hover(segment, offset=(2 + 4, 3))
        await pilot.mouse_up(segment, offset=(2 + 4, 3))
        await pilot.pause()
        assert (
            segment.app.screen.get_selected_text() == "line of the reply.\n\n• an item\n• ano"
        )  # up to the cell under the pointer
        selected = segment.render_line(2)
        unselected = segment.render_line(4)
        assert selected.text.startswith("• an item")
        background = segment.app.screen.get_component_rich_style("screen--selection").bgcolor
        assert any(piece.style.bgcolor == background for piece in selected if piece.text.strip())
        assert not any(piece.style.bgcolor == background for piece in unselected if piece.style)


async def test_a_whole_selection_copies_the_whole_segment() -> None:
    segment = ReplySegment("One.\n\n1. two\n2. three\n")
    async with mounted(segment) as pilot:
        segment.app.screen.selections = {segment: Selection(None, None)}
        await pilot.pause()
        assert segment.app.screen.get_selected_text() == "One.\n\n 1. two\n 2. three"
        segment.app.screen.selections = {segment: Selection(Offset(0, 2), Offset(3, 3))}
        assert segment.app.screen.get_selected_text() == " 1. two\n 2."


async def test_a_parked_segment_keeps_its_height_and_text_and_draws_again() -> None:
    segment = ReplySegment(LISTS_AND_CODE)
    async with mounted(segment) as pilot:
        before, height = shown(segment), segment.size.height
        segment.park()
        await pilot.pause()
        assert segment.parked and segment.size.height == height and segment.text == LISTS_AND_CODE
        assert segment._lines == [] and segment._renderer is None  # nothing rendered is kept
        segment.unpark()
        await pilot.pause()
        assert shown(segment) == before


async def test_switching_theme_recolours_a_shown_reply() -> None:
    segment = ReplySegment("## Heading\n\nText.\n")
    async with mounted(segment) as pilot:
        app = segment.app

        def heading_colour() -> str:
            pieces = next(pieces for text, pieces in shown(segment) if text.strip() == "Heading")
            return next(style.color.triplet.hex for text, style in pieces if text.strip())

        first = heading_colour()
        app.theme = "textual-light" if app.current_theme.dark else "textual-dark"
        await pilot.pause()
        assert heading_colour() != first
        assert heading_colour() == Color.parse(app.theme_variables["markdown-h2-color"]).hex.lower()


async def test_thoughts_are_muted() -> None:
    app = SegmentApp()
    async with app.run_test(size=(100, 30)) as pilot:
        thoughts = ThoughtsBlock("Thinking about **it** a little.")
        await app.query_one("#view").mount(thoughts)
        thoughts.collapsed = False
        await pilot.pause()
        segment = thoughts.segment
        text_piece = next(piece for piece in segment.render_line(0) if piece.text.startswith("Thinking"))
        muted = segment.rich_style.color
        assert text_piece.style.color == muted
        reply = ReplySegment("Thinking about it.")
        await app.query_one("#view").mount(reply)
        await pilot.pause()
        assert reply.rich_style.color != muted


async def test_a_streaming_segment_grows_in_steps_and_ends_as_tall_as_its_text() -> None:
    """A line at a time, the segment's height moves only when its blank rows run out (each move is a layout of
    the whole screen, and a pinned view scrolls with it); once finished, no blank row is left."""
    segment = ReplySegment(streaming=True)
    async with mounted(segment) as pilot:
        heights, text_rows = [], []
        for number in range(60):
            await segment.write(f"Line {number} of the reply.\n\n")
            segment._flush()  # what the flush timer does every 0.1 s
            await pilot.pause()
            heights.append(segment.size.height)
            text_rows.append(segment.size.height - segment.blank_rows)
        # Every line written is drawn at its flush: none waits for the next step.
        assert [rows - text_rows[0] for rows in text_rows] == [2 * number for number in range(60)]
        assert len(set(heights)) <= 120 // segment.reserve_step() + 1
        moves = [after - before for before, after in itertools.pairwise(heights) if after != before]
        assert all(move >= segment.reserve_step() for move in moves)
        await segment.finish()
        await pilot.pause()
        assert segment.size.height <= text_rows[-1] and segment.blank_rows == 0
        assert "Line 59 of the reply." in texts(segment)[-2:]
