"""Conversations as Markdown, for `history show` and `history export --format md`.

The Markdown is for reading (in a terminal, a pager, an editor), so it holds no control sequences: escapes and
controls in the text are replaced by the visible stand-ins of `render.safe_text`, and the title and names are
one line each. The JSON export is the lossless one (JSON escapes every control character).
"""

from __future__ import annotations

import time

from flashchat.core.conversation import Conversation, Message
from flashchat.render.safe_text import MESSAGE_CHARS, NAME_CHARS, one_line, terminal_safe


def _timestamp(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))


def _reply_heading(message: Message) -> str:
    details = [one_line(message.model_version or message.model or "model", NAME_CHARS)]
    if message.thinking_level:
        details.append(f"thinking {one_line(message.thinking_level, NAME_CHARS)}")
    if message.usage is not None:
        details.append(f"{message.usage.total:,} tokens")
    if message.stopped:
        details.append("stopped")
    elif message.incomplete:
        details.append("incomplete")
    return "## Gemini (" + ", ".join(details) + ")"


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.strip("\n").splitlines())


def conversation_markdown(conversation: Conversation) -> str:
    # An imported conversation can carry anything: every stored string is made safe on the way out.
    title = one_line(conversation.title, NAME_CHARS * 2) or "Untitled conversation"
    lines = [f"# {title}", ""]
    model = one_line(conversation.model, NAME_CHARS)
    lines.append(f"`{one_line(conversation.id or '', NAME_CHARS)}` · {_timestamp(conversation.created_at)} · {model}")
    if conversation.system_prompt:
        lines += ["", "System prompt:", "", _quoted(terminal_safe(conversation.system_prompt))]
    for message in conversation.messages:
        lines.append("")
        if message.role == "user":
            lines += ["## You", "", terminal_safe(message.text).rstrip("\n")]
            # The files themselves live in the store and the JSON export; the Markdown names each one.
            attached = [f"- 📎 `{one_line(ref.name, NAME_CHARS)}` ({ref.describe()})" for ref in message.media]
            lines += ["", "Attached:", *attached] if attached else []
            continue
        lines += [_reply_heading(message), ""]
        if message.thoughts:
            thoughts = _quoted(terminal_safe(message.thoughts))
            lines += ["<details><summary>Thoughts</summary>", "", thoughts, "", "</details>", ""]
        lines.append(terminal_safe(message.text).rstrip("\n"))
        if message.error:
            lines += ["", f"*{one_line(message.error, MESSAGE_CHARS)}*"]
    return "\n".join(lines) + "\n"
