"""Markdown as lines at a width: blocks, the look of lists, fences and links, and what a streamed flush re-renders."""

from __future__ import annotations

from pygments.token import Token
from rich.style import Style

from flashchat.render.markdown_lines import (
    PLAIN_STYLES,
    Line,
    MarkdownLines,
    MarkdownStyles,
    render_markdown,
    split_blocks,
)
from flashchat.render.safe_text import terminal_safe

FENCE = "Code:\n\n```python\n" + "".join(f"value_{n} = {n}\n" for n in range(40))


def texts(lines: list[Line]) -> list[str]:
    return ["".join(segment.text for segment in line).rstrip() for line in lines]


def test_a_segment_splits_into_top_level_blocks_and_a_loose_list_is_one() -> None:
    blocks = split_blocks("# Title\n\nSome prose.\n\n- one\n\n- two\n\n  more of two\n\n```\ncode\n```\n")
    assert [block.source for block in blocks] == [
        "# Title",
        "Some prose.",
        "- one\n\n- two\n\n  more of two\n",  # a list's lines run to the blank line after it
        "```\ncode\n```",
    ]
    assert not any(block.open_fence for block in blocks)
    assert split_blocks("```python\nx = 1\n")[0].open_fence


def test_every_line_is_the_width_and_paragraphs_wrap() -> None:
    lines = render_markdown("word " * 40, 30)
    assert all(sum(segment.cell_length for segment in line) == 30 for line in lines)
    assert texts(lines)[:2] == ["word word word word word word", "word word word word word word"]


def test_lists_nested_lists_and_numbers_from_three() -> None:
    shown = texts(
        render_markdown("- one\n- two\n  - inner\n\nText.\n\n3. three\n4. four\n\nThen:\n\n9. nine\n10. ten\n", 40)
    )
    assert shown == [
        "• one",
        "• two",
        "  ▪ inner",
        "",
        "Text.",
        "",
        " 3. three",
        " 4. four",
        "",
        "Then:",
        "",
        "  9. nine",
        " 10. ten",
        "",
    ]


def test_tables_and_fences_inside_list_items() -> None:
    shown = texts(render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n\n- holds code:\n\n  ```\n  x = 1\n  ```\n", 40))
    # Lines around every cell, across the width as Textual's tables were.
    assert [line[0] + line.replace(" ", "")[1:] for line in shown[:5]] == [
        "┌" + "─" * 19 + "┬" + "─" * 18 + "┐",
        "│a│b│",
        "├" + "─" * 19 + "┼" + "─" * 18 + "┤",
        "│1│2│",
        "└" + "─" * 19 + "┴" + "─" * 18 + "┘",
    ]
    assert "• holds code:" in shown and "    x = 1" in shown


def test_links_show_their_address_and_never_become_terminal_hyperlinks() -> None:
    lines = render_markdown("See [the docs](https://example.com/docs) and ![a cat](https://example.com/cat.png).", 120)
    assert texts(lines)[0] == "See the docs (https://example.com/docs) and 🖼 a cat (https://example.com/cat.png)."
    assert not any(segment.style is not None and segment.style.link for line in lines for segment in line)


def test_an_open_fence_is_plain_while_streaming_and_highlighting_keeps_its_height() -> None:
    styles = MarkdownStyles("test", code={Token.Name: Style(color="blue"), Token.Number: Style(color="red")})
    streaming = MarkdownLines(styles).render(FENCE, 60, streaming=True)
    finished = MarkdownLines(styles).render(FENCE, 60)
    assert texts(streaming) == texts(finished)  # same lines, same height
    fence_lines = [line for line in streaming if "value_" in "".join(segment.text for segment in line)]
    assert all(len({segment.style for segment in line if segment.text.strip()}) == 1 for line in fence_lines)
    highlighted = [line for line in finished if "value_" in "".join(segment.text for segment in line)]
    assert all(len({segment.style for segment in line if segment.text.strip()}) > 1 for line in highlighted)


def test_long_code_lines_fold_rather_than_disappear() -> None:
    shown = texts(render_markdown("```\n" + "x" * 50 + "\n```\n", 30))
    assert shown[2:5] == ["  " + "x" * 26, "  " + "x" * 24, ""]  # after the margin and the padding


def test_a_flush_renders_again_only_the_block_that_grew() -> None:
    renderer = MarkdownLines(PLAIN_STYLES)
    first = renderer.render("# Title\n\nA paragraph.\n\nThe last one gro", 40, streaming=True)
    second = renderer.render("# Title\n\nA paragraph.\n\nThe last one grows.", 40, streaming=True)
    assert second[2] is first[2] and second[4] is first[4]  # the heading and the paragraph: the same lines
    assert texts(second)[6] == "The last one grows."
    assert renderer.render("# Title\n\nA paragraph.\n\nThe last one grows.", 40, streaming=True) is second


def test_control_characters_arrive_as_visible_pictures() -> None:
    text = terminal_safe("clipboard \x1b]52;c;ZXZpbA==\x07 and \x1b[2J clear\r\nnext \x9b line")
    shown = "\n".join(texts(render_markdown(text, 80)))
    assert "␛]52;c;ZXZpbA==␇" in shown and "␛[2J" in shown
    assert not any((ord(char) < 32 and char != "\n") or 0x7F <= ord(char) < 0xA0 for char in shown)
