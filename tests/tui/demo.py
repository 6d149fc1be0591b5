"""A fixed conversation for snapshots: every number on screen is set here, none is measured."""

from __future__ import annotations

from flashchat.core.conversation import Conversation, Message, Usage

QUESTION = "How do I read a file line by line in Python, and skip blank lines?"
THOUGHTS = "**Reading the question**\n\nThey want idiomatic iteration over a file, with blank lines filtered out."
ANSWER = """\
Iterate over the file object: it yields one line at a time, so even a huge file never sits in memory.

```python
from pathlib import Path

def non_blank_lines(path: Path):
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield line.rstrip("\\n")
```

| approach | memory | notes |
| --- | --- | --- |
| `for line in handle` | one line | the usual way |
| `handle.readlines()` | whole file | fine for small files |

- `line.strip()` is empty for blank *and* whitespace-only lines.
- Pass `encoding=` explicitly: the default depends on the platform.
"""


def demo_conversation() -> Conversation:
    usage = Usage(prompt=1_234, output=187, thoughts=64, cached=1_024, tool_use=0, total=1_485)
    return Conversation(
        messages=[
            Message(role="user", text=QUESTION, model="gemini-3.5-flash"),
            Message(
                role="model",
                text=ANSWER,
                thoughts=THOUGHTS,
                provider="gemini",
                model="gemini-3.5-flash",
                model_version="gemini-3.5-flash",
                thinking_level="medium",
                usage=usage,
                finish_reason="STOP",
                first_token_seconds=0.42,
                duration_seconds=1.9,
            ),
        ],
        title="Read a file line by line",
    )
