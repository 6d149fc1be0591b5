"""The one fence tracker both Markdown splitters use (progressive rendering, and the TUI's reply segments)."""

from __future__ import annotations

from flashchat.render.markdown_blocks import FenceTracker, MarkdownBlockSplitter


def inside_after_each(lines: list[str]) -> list[bool]:
    tracker = FenceTracker()
    states = []
    for line in lines:
        tracker.feed(line)
        states.append(tracker.inside)
    return states


def test_a_longer_fence_holding_a_shorter_one_stays_open() -> None:
    assert inside_after_each(["````markdown", "```python", "x = 1", "```", "````"]) == [True, True, True, True, False]


def test_tildes_and_backticks_do_not_close_each_other() -> None:
    assert inside_after_each(["~~~", "```", "~~~~"]) == [True, True, False]
    assert inside_after_each(["```", "~~~", "```"]) == [True, True, False]


def test_a_closing_line_has_only_the_marker_character() -> None:
    assert inside_after_each(["```", "``` not a close", "```x", "```  "]) == [True, True, True, False]


def test_indented_up_to_three_spaces_opens_four_does_not() -> None:
    assert inside_after_each(["   ```"]) == [True]
    assert inside_after_each(["    ```"]) == [False]  # an indented code block's text, not a fence
    assert inside_after_each(["``", "text"]) == [False, False]


def test_feed_says_which_lines_belong_to_a_fence() -> None:
    tracker = FenceTracker()
    assert [tracker.feed(line) for line in ["before", "```", "code", "```", "after"]] == [
        False,
        True,
        True,
        True,
        False,
    ]


def test_lines_with_their_newline_read_the_same() -> None:
    assert inside_after_each(["````\n", "```\n", "````\n"]) == [True, True, False]


def test_the_block_splitter_keeps_a_nested_fence_in_one_block() -> None:
    splitter = MarkdownBlockSplitter()
    blocks = splitter.feed("intro\n\n````\n```\n\nstill code\n\n```\n````\nafter\n\n")
    assert blocks == ["intro", "````\n```\n\nstill code\n\n```\n````", "after"]
