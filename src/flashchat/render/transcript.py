"""Conversations as Markdown, for `history show` and `history export --format md`."""

from __future__ import annotations

import time

from flashchat.core.conversation import Conversation, Message


def _timestamp(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))


def _reply_heading(message: Message) -> str:
    details = [message.model_version or message.model or "model"]
    if message.thinking_level:
        details.append(f"thinking {message.thinking_level}")
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
    lines = [f"# {conversation.title or 'Untitled conversation'}", ""]
    lines.append(f"`{conversation.id}` · {_timestamp(conversation.created_at)} · {conversation.model}")
    if conversation.system_prompt:
        lines += ["", "System prompt:", "", _quoted(conversation.system_prompt)]
    for message in conversation.messages:
        lines.append("")
        if message.role == "user":
            lines += ["## You", "", message.text.rstrip("\n")]
            continue
        lines += [_reply_heading(message), ""]
        if message.thoughts:
            lines += ["<details><summary>Thoughts</summary>", "", _quoted(message.thoughts), "", "</details>", ""]
        lines.append(message.text.rstrip("\n"))
        if message.error:
            lines += ["", f"*{message.error}*"]
    return "\n".join(lines) + "\n"
