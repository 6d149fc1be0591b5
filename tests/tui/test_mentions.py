"""The one `@path` rule: what the composer's popup completes is what a sent prompt attaches."""

from __future__ import annotations

import pytest

from flashchat.core.attachments import AT_PATH, mention_at_cursor


@pytest.mark.parametrize(
    ("typed", "mention"),
    [
        ("see @", ""),
        ("see @sr", "sr"),
        ("@src/app.py", "src/app.py"),
        ("(@~/notes.md", "~/notes.md"),
        ("mail me at a@b.c", None),  # an e-mail address
        ("@@twice", None),
        ("@app.py done", None),  # a space ended the mention
        ("no mention", None),
    ],
)
def test_the_mention_at_the_cursor(typed: str, mention: str | None) -> None:
    assert mention_at_cursor(typed) == mention


def test_a_completed_mention_is_what_is_attached() -> None:
    for typed in ("look at @src/app.py", "@tests/test_x.py", "x (@a-b_c.d"):
        completed = mention_at_cursor(typed)
        assert completed and AT_PATH.findall(typed + " and more") == [completed]
