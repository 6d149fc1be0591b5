"""A reply streamed into Markdown in small pieces ends up exactly as the same text rendered whole.

Streaming takes shortcuts (lists grow in place, open fences are plain text in a `StreamingCode`), and a
segment that ends at a cut is never rendered again, so what streaming builds must be what a fresh render
builds.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from rich.style import Style
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Markdown, Static

from flashchat.tui.widgets.reply_segment import ReplySegment, rendered_lines
from flashchat.tui.widgets.streaming_code import StreamingCode

from .pilot_helpers import wait_until

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


def block_tree(markdown: Widget) -> list[tuple[int, str, str, tuple[int, int]]]:
    """Each widget under `markdown`, depth first: its depth, its type, the text it shows and its size."""
    tree = []
    for node in markdown.walk_children(with_self=False):
        depth = sum(1 for _ in node.ancestors) - sum(1 for _ in markdown.ancestors)
        if type(node).__name__ == "MarkdownBullet":
            text = node.symbol  # type: ignore[attr-defined]
        elif isinstance(node, StreamingCode):
            text = node.code
        elif isinstance(node, Static):
            rendered = node.render()
            text = getattr(rendered, "plain", str(rendered))
        else:
            text = ""
        kind = type(node).__name__
        # Textual's own table streaming adds rows as plain Statics (no link action); same text, same look.
        tree.append((depth, "Static" if kind == "MarkdownTableCellContents" else kind, text, tuple(node.size)))
    return tree


class SegmentApp(App):
    def compose(self) -> ComposeResult:
        yield VerticalScroll(id="view")


@contextlib.asynccontextmanager
async def streaming_segment() -> AsyncIterator[tuple[Pilot, ReplySegment]]:
    app = SegmentApp()
    async with app.run_test(size=(100, 40)) as pilot:
        segment = ReplySegment(streaming=True)
        await app.query_one("#view").mount(segment)
        yield pilot, segment


def as_seen(lines: list[Strip]) -> list[tuple[str, tuple[Style | None, ...]]]:
    """Each row's text and the style of each of its runs: what the terminal shows."""
    return [(line.text, tuple(segment.style for segment in line)) for line in lines]


async def drawn(text: str, *, chunk: int | None, stock: bool = False) -> list[tuple]:
    """`text` as the screen draws it: streamed in `chunk`s, rendered whole (None), or by a stock Markdown."""
    app = SegmentApp()
    async with app.run_test(size=(100, 40)) as pilot:
        segment = Markdown(text) if stock else ReplySegment(text) if chunk is None else ReplySegment(streaming=True)
        await app.query_one("#view").mount(segment)
        if chunk is not None:
            for start in range(0, len(text), chunk):
                await segment.append(text[start : start + chunk])
            segment.streaming = False
        await pilot.pause()
        await pilot.pause()
        if isinstance(segment, ReplySegment) and chunk is None:
            await wait_until(pilot, lambda: segment.frozen)
            assert not segment.children  # a finished segment keeps its lines, not its block widgets
            return as_seen(segment.drawn_lines())
        return as_seen(rendered_lines(segment))


@pytest.mark.parametrize("chunk", [2, 9, 50])
async def test_streamed_lists_and_fences_match_the_whole_render(chunk: int) -> None:
    whole = await drawn(LISTS_AND_CODE, chunk=None)
    assert any(text.startswith("   12. item number 12") for text, _ in whole)  # numbers right-aligned
    assert await drawn(LISTS_AND_CODE, chunk=chunk) == whole


async def test_a_finished_reply_is_drawn_as_textual_draws_markdown() -> None:
    """Our block classes (lists, fences) and the frozen lines change how a reply streams, never how it looks."""
    assert await drawn(LISTS_AND_CODE, chunk=None) == await drawn(LISTS_AND_CODE, chunk=None, stock=True)


async def test_a_frozen_segment_is_drawn_again_for_a_new_width_and_a_new_theme() -> None:
    app = SegmentApp()
    async with app.run_test(size=(100, 40)) as pilot:
        segment = ReplySegment(LISTS_AND_CODE)
        await app.query_one("#view").mount(segment)
        await wait_until(pilot, lambda: segment.frozen)
        wide = segment.drawn_lines()
        await pilot.resize_terminal(60, 40)
        width = wide[0].cell_length
        await wait_until(pilot, lambda: segment.frozen and segment.drawn_lines()[0].cell_length < width)
        narrow = segment.drawn_lines()
        assert {line.cell_length for line in narrow} == {segment.outer_size.width} and len(narrow) > len(wide)
        assert segment.outer_size.height == len(narrow)  # the held height follows the new layout
        before = as_seen(narrow)
        app.theme = "textual-light"
        await wait_until(pilot, lambda: segment.frozen and as_seen(segment.drawn_lines()) != before)
        assert [text for text, _ in as_seen(segment.drawn_lines())] == [text for text, _ in before]


async def test_an_open_fence_streams_as_plain_text_and_is_highlighted_once_it_closes() -> None:
    async with streaming_segment() as (pilot, segment):
        await segment.append("Code:\n\n```python\n")
        for number in range(40):
            await segment.append(f"value_{number} = {number}\n")
        code = segment.query_one(StreamingCode)
        assert code.code.splitlines()[-1] == "value_39 = 39"
        await pilot.pause()
        fence = code.parent
        assert fence is not None and fence.size.height == 40 + 2  # every line, and the padding
        await segment.append("```\n\nAfter.\n")
        await pilot.pause()
        assert not segment.query(StreamingCode)
        highlighted = segment.query_one("#code-content", Static).render()
        assert "value_39 = 39" in highlighted.plain and highlighted.spans  # coloured now
        assert fence.size.height == 40 + 2  # closing the fence does not make the reply jump


def test_streaming_code_measures_only_what_grew() -> None:
    code = StreamingCode("a = 1\nlonger_line = 2\n")
    code.set_code("a = 1\nlonger_line = 2\nx\tb")
    assert code.get_content_height(None, None, 0) == 3  # type: ignore[arg-type]
    assert code.get_content_width(None, None) == len("longer_line = 2")  # type: ignore[arg-type]
    code.set_code("a = 1\nlonger_line = 2\nx\tb" + "c" * 30)
    assert code.get_content_width(None, None) == len("x       b") + 30  # type: ignore[arg-type]
    code.set_code("replaced")  # not a continuation: measured from scratch
    assert (code.get_content_height(None, None, 0), code.get_content_width(None, None)) == (1, 8)  # type: ignore[arg-type]


async def test_a_streaming_list_keeps_its_items_and_adds_new_ones() -> None:
    """Textual rebuilds a growing list on every append; ours keeps the items already shown."""
    async with streaming_segment() as (pilot, segment):
        await segment.append("- one\n- tw")
        first_item = segment.query("Horizontal").first()
        await segment.append("o\n- three\n- four, and more")
        await pilot.pause()
        items = list(segment.query("Horizontal"))
        assert items[0] is first_item and len(items) == 4
        assert [str(paragraph.render()) for paragraph in segment.query("MarkdownParagraph")][1:] == [
            "two",
            "three",
            "four, and more",
        ]
