"""A reply streamed into Markdown in small pieces ends up exactly as the same text rendered whole.

Streaming takes shortcuts (lists grow in place, open fences are plain text in a `StreamingCode`), and a
segment that ends at a cut is never rendered again, so what streaming builds must be what a fresh render
builds.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Markdown, Static

from flashchat.tui.widgets.reply_segment import ReplySegment
from flashchat.tui.widgets.streaming_code import StreamingCode

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


async def rendered_tree(text: str, *, chunk: int | None, stock: bool = False) -> list[tuple]:
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
        return block_tree(segment)


@pytest.mark.parametrize("chunk", [2, 9, 50])
async def test_streamed_lists_and_fences_match_the_whole_render(chunk: int) -> None:
    whole = await rendered_tree(LISTS_AND_CODE, chunk=None)
    assert ("MarkdownBullet", " 12. ", (5, 1)) in {(kind, text, size) for _, kind, text, size in whole}
    assert await rendered_tree(LISTS_AND_CODE, chunk=chunk) == whole


async def test_a_finished_reply_is_laid_out_as_textual_lays_out_markdown() -> None:
    """Our block classes (lists, fences) change how a reply streams, never how it looks once done."""
    ours = await rendered_tree(LISTS_AND_CODE, chunk=None)
    stock = await rendered_tree(LISTS_AND_CODE, chunk=None, stock=True)
    without_types = [(depth, text, size) for depth, _, text, size in ours]
    assert without_types == [(depth, text, size) for depth, _, text, size in stock]


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
