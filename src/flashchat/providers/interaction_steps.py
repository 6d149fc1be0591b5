"""Conversation history as Interactions API steps, and Interactions replies as generateContent contents.

One conversation can switch between the two Gemini APIs both ways, so each side must read what the other
stored. A reply made through Interactions keeps its output steps exactly as received (`native = {"steps":
[...]}`); one made through generateContent keeps its `Content` dump (`native = {"role": "model", "parts":
[...]}`). Thought signatures move between them unchanged in bytes: generateContent dumps carry URL-safe
base64, the Interactions wire carries the standard alphabet (shared/notes/interactions.md, section 6).

No SDK import here: this is dict work, shared by providers/gemini.py and providers/gemini_interactions.py.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flashchat.config.settings import Settings
    from flashchat.core.conversation import Conversation, Message

Json = dict[str, Any]

NAME = "gemini"
DEFAULT_HOST = "generativelanguage.googleapis.com"


def endpoint_key(settings: Settings) -> str:
    """Which server holds an interaction: an id means nothing to another base URL."""
    return settings.base_url.rstrip("/") or DEFAULT_HOST


def is_interaction_reply(message: Message) -> bool:
    return message.role == "model" and message.provider == NAME and bool((message.native or {}).get("steps"))


def _recode(signature: str, *, url_safe: bool) -> str | None:
    """The same signature bytes in the other base64 alphabet; None when it is not base64 (or empty)."""
    text = signature.strip().replace("-", "+").replace("_", "/")
    if not text:
        return None
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    return (base64.urlsafe_b64encode if url_safe else base64.b64encode)(raw).decode("ascii")


def _text_input(text: str) -> Json:
    return {"type": "user_input", "content": [{"type": "text", "text": text}]}


def steps_for(messages: list[Message]) -> list[Json]:
    """The `input` steps for these messages (a stateless replay sends them all, a stateful turn the new ones)."""
    steps: list[Json] = []
    for message in messages:
        if message.role == "user":
            steps += _user_steps(message)
        elif is_interaction_reply(message):
            steps += _echoed_steps((message.native or {})["steps"])
        elif message.provider == NAME and message.native and message.native.get("parts"):
            steps += steps_from_content(message.native)
        elif message.text:
            # A reply from another provider, or without native content: its text is all there is.
            steps.append({"type": "model_output", "content": [{"type": "text", "text": message.text}]})
    return steps


def _user_steps(message: Message) -> list[Json]:
    parts = (message.native or {}).get("parts") if message.provider == NAME else None
    if not parts:
        return [_text_input(message.text)]
    steps: list[Json] = []
    for part in parts:
        response = part.get("function_response") or part.get("functionResponse")
        if isinstance(response, dict):
            result = response.get("response") or {}
            step: Json = {"type": "function_result", "call_id": response.get("id") or "", "name": response.get("name")}
            step["result"] = result
            if isinstance(result, dict) and "error" in result:
                step["is_error"] = True
            steps.append(step)
        elif isinstance(part.get("text"), str) and part["text"]:
            steps.append(_text_input(part["text"]))
    return steps


def _echoed_steps(stored: list[Json]) -> list[Json]:
    """Output steps as received, minus what the API must not get back: a thought with an empty signature
    (googleapis/js-genai#1735 turned those into 400s) and a stray echoed user_input."""
    echoed = []
    for step in stored:
        if step.get("type") == "thought" and not step.get("signature"):
            continue
        if step.get("type") == "user_input":
            continue
        if step.get("signature") == "":  # tool steps start with "signature": "" on the stream
            step = {key: value for key, value in step.items() if key != "signature"}
        echoed.append(step)
    return echoed


def steps_from_content(content: Json) -> list[Json]:
    """A generateContent model `Content` dump as Interactions steps, signatures kept byte for byte."""
    steps: list[Json] = []
    texts: list[Json] = []

    def flush() -> None:
        if texts:
            steps.append({"type": "model_output", "content": list(texts)})
            texts.clear()

    for part in content.get("parts") or []:
        signature = part.get("thought_signature") or part.get("thoughtSignature")
        recoded = _recode(signature, url_safe=False) if isinstance(signature, str) else None
        call = part.get("function_call") or part.get("functionCall")
        if isinstance(call, dict):
            flush()
        if recoded:
            # Interactions puts the thought before what it led to; generateContent signs the text's last part.
            steps.append({"type": "thought", "signature": recoded})
        if isinstance(call, dict):
            steps.append(
                {
                    "type": "function_call",
                    "id": call.get("id") or "",
                    "name": call.get("name"),
                    "arguments": call.get("args") or {},
                }
            )
        elif isinstance(part.get("text"), str) and part["text"] and not part.get("thought"):
            texts.append({"type": "text", "text": part["text"]})
    flush()
    return steps


def content_from_steps(native: Json) -> Json:
    """An Interactions reply as a generateContent model `Content` dump: the signature of a thought step goes
    on the part that follows it, as generateContent carries signatures."""
    parts: list[Json] = []
    signature: str | None = None

    def add(part: Json) -> None:
        nonlocal signature
        if signature is not None:
            part["thought_signature"] = signature
            signature = None
        parts.append(part)

    for step in native.get("steps") or []:
        kind = step.get("type")
        if kind == "thought":
            if signature is not None:
                add({"text": ""})
            signature = _recode(str(step.get("signature") or ""), url_safe=True)
        elif kind == "model_output":
            for item in step.get("content") or []:
                if item.get("type") == "text" and item.get("text"):
                    add({"text": item["text"]})
        elif kind == "function_call":
            add(
                {"function_call": {"id": step.get("id"), "name": step.get("name"), "args": step.get("arguments") or {}}}
            )
    if signature is not None:
        add({"text": ""})
    return {"role": "model", "parts": parts}


def anchor(conversation: Conversation, settings: Settings) -> tuple[int | None, str]:
    """Where a stateful turn continues from: the index of the newest reply the server keeps, or None with the
    reason (one line for the user, "" when there is nothing to say) that the whole history is sent instead."""
    if not settings.store:
        return None, ""
    for index in range(len(conversation.messages) - 1, -1, -1):
        message = conversation.messages[index]
        if message.role != "model" or not message.interaction_id or message.incomplete:
            continue
        if message.model != settings.model:
            return None, (
                f"The model changed ({message.model} → {settings.model}): the whole history was sent this turn, "
                "and the server keeps it from here."
            )
        if message.interaction_endpoint != endpoint_key(settings):
            return None, (
                "The endpoint changed: the whole history was sent this turn, and the new server keeps it from here."
            )
        return index, ""
    return None, ""
