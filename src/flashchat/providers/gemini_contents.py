"""The request's `contents` in the form the SDK puts on the wire, built once per stored content and kept.

Why: the SDK validates every content of every request into pydantic objects and converts them back to dicts
(`_GenerateContentParameters`, `_Content_to_mldev`, `convert_to_dict`, `encode_unserializable_types`). On a
2,000-message conversation (4 MB, ~1M tokens) that was ~0.7 s of CPU per turn (bench/huge_history.py), the same
work on the same unchanged history every turn. Here each content is converted once:
- the common shapes (text, thought text, signatures, function calls and responses: what flashchat stores for
  nearly every message) by `_fast_wire`, a few dict operations with the same result as the SDK's conversion;
- anything else (media, executable code, fields flashchat does not know, a signature not in the SDK's own
  URL-safe form) by the SDK's own functions, exactly as before.
`KeptContents` keeps a session's contents, plain and in wire form, from turn to turn: a stored content is never
changed in place (an edit, retry or branch replaces or removes the message), so a turn that adds messages
builds and converts only those.

Byte-exact: the request body is `json.dumps` of the same dicts the SDK would have built (tests compare request
bodies with the SDK's own; `_fast_path_agrees` checks a probe covering every shape the fast path takes against
the installed SDK once per process, and the SDK's conversion is used for everything when they differ).
"""

from __future__ import annotations

import functools
import json
import operator
import re
from collections.abc import Callable
from typing import Any

from flashchat.providers.identity_memo import IdentityMemo

Json = dict[str, Any]

# Stored (model_dump) field -> wire field, in the order the SDK's `_Part_to_mldev` writes them.
_PART_FIELDS = (
    ("function_call", "functionCall"),
    ("function_response", "functionResponse"),
    ("text", "text"),
    ("thought", "thought"),
    ("thought_signature", "thoughtSignature"),
)
_PART_KEYS = frozenset(stored for stored, _ in _PART_FIELDS)
# `_FunctionCall_to_mldev` writes id, args, name; a FunctionResponse is dumped in its fields' order.
_CALL_ORDER = ("id", "args", "name")
_RESPONSE_ORDER = ("id", "name", "response")
_CALL_TYPES = {"id": str, "args": dict, "name": str}
_RESPONSE_TYPES = {"id": str, "name": str, "response": dict}
_NESTED = {"function_call": (_CALL_ORDER, _CALL_TYPES), "function_response": (_RESPONSE_ORDER, _RESPONSE_TYPES)}

# Contents the SDK requires at least one of: what the request is built with when the real ones are given in
# wire form (they replace it afterwards).
PLACEHOLDER_CONTENTS: list[Json] = [{"role": "user", "parts": [{"text": ""}]}]


class SentAsIs(list[Json]):
    """Contents already in wire form (from `wire_contents`): the request carries them unchanged. `texts`, when
    set, holds each one's `json.dumps`, kept from turn to turn: the body is joined from them (`spliced_body`)."""

    texts: list[str] | None = None


def spliced_body(request: Any) -> bytes | None:
    """`json.dumps(request).encode()`, as the SDK sends it, joined from the contents' kept JSON; None when the
    request's contents are not ours in full (then the SDK encodes it, as always)."""
    contents = request.get("contents") if type(request) is dict else None
    if not isinstance(contents, SentAsIs) or contents.texts is None or next(iter(request)) != "contents":
        return None
    rest = {key: value for key, value in request.items() if key != "contents"}
    tail = ", " + json.dumps(rest)[1:] if rest else "}"
    return ('{"contents": [' + ", ".join(contents.texts) + "]" + tail).encode("utf-8")


def wire_content(content: Json) -> Json:
    """One stored content as the SDK would send it."""
    if _fast_path_agrees():
        fast = _fast_wire(content)
        if fast is not None:
            return fast
    return sdk_wire(content)


def sdk_wire(content: Any) -> Json:
    """The SDK's own conversion of one content (validation included: a malformed one raises as it did)."""
    from google.genai import _common, types
    from google.genai import models as sdk_models

    validated = types.Content.model_validate(content)
    converted = sdk_models._Content_to_mldev(validated)  # pyright: ignore[reportPrivateUsage]
    return _common.encode_unserializable_types(_common.convert_to_dict(converted))


def _fast_wire(content: Any) -> Json | None:
    """The wire form of a content of the common shapes, or None for anything the SDK should convert."""
    if type(content) is not dict or not content.keys() <= {"parts", "role"}:
        return None
    parts, role = content.get("parts"), content.get("role")
    if type(parts) is not list or (role is not None and type(role) is not str):
        return None
    wire_parts = []
    for part in parts:
        wire_part = _fast_part(part)
        if wire_part is None:
            return None
        wire_parts.append(wire_part)
    wire: Json = {"parts": wire_parts}
    if role is not None:
        wire["role"] = role
    return wire


def _fast_part(part: Any) -> Json | None:
    if type(part) is not dict or not part.keys() <= _PART_KEYS:
        return None
    wire: Json = {}
    for stored, sent in _PART_FIELDS:
        value = part.get(stored)
        if value is None:
            continue
        if stored == "text":
            if type(value) is not str:
                return None
        elif stored == "thought":
            if type(value) is not bool:
                return None
        elif stored == "thought_signature":
            if not _canonical_signature(value):
                return None
        else:
            value = _fields_in_order(value, *_NESTED[stored])
            if value is None:
                return None
        wire[sent] = value
    return wire


def _fields_in_order(value: Any, order: tuple[str, ...], kinds: dict[str, type]) -> Json | None:
    """A call or response with only the fields the fast path knows, of the exact JSON types, in the SDK's order;
    the SDK passes the `args` / `response` objects through unchanged (None values inside them included)."""
    if type(value) is not dict or not value.keys() <= kinds.keys():
        return None
    result: Json = {}
    for name in order:
        field = value.get(name)
        if field is None:
            continue
        if type(field) is not kinds[name]:
            return None
        result[name] = field
    return result


def _canonical_signature(value: Any) -> bool:
    """A signature in the SDK's own form (URL-safe base64 with padding, as `model_dump` stores it): the SDK decodes
    it to bytes and encodes it again to the same string. Any other spelling (standard alphabet, no padding, unused
    bits set) is left to the SDK, which accepts it and sends its own spelling."""
    return type(value) is str and _CANONICAL_BASE64.fullmatch(value) is not None


# Canonical URL-safe base64: whole groups of four, then one padded group whose unused bits are zero (what
# `base64.urlsafe_b64encode` writes); a regular expression, as decoding and encoding each signature again was
# half of converting a conversation.
_CANONICAL_BASE64 = re.compile(r"(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-][AQgw]==|[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048]=)?")


_PROBE: Json = {
    "parts": [
        {"text": "**Planning** the call", "thought": True},
        {
            "function_call": {"id": "call-1", "args": {"path": "a.py", "deep": [1, None, {"b": True}]}, "name": "f"},
            "thought_signature": "-vv8LW9wYXF1ZS1zaWct__4=",
        },
        {"function_call": {"args": {}, "name": "g"}},
        {"function_response": {"id": "call-1", "name": "f", "response": {"result": None, "n": 1.5}}},
        {"text": "answer"},
        {"text": "", "thought_signature": "c2lnbmF0dXJl"},
        {},
    ],
    "role": "model",
}


@functools.cache
def _sdk_conversion_available() -> bool:
    from google.genai import _common
    from google.genai import models as sdk_models

    needed = (
        getattr(sdk_models, "_Content_to_mldev", None),
        getattr(_common, "convert_to_dict", None),
        getattr(_common, "encode_unserializable_types", None),
    )
    return None not in needed


@functools.cache
def _fast_path_agrees() -> bool:
    """Whether the fast path gives the installed SDK's own result for a probe of every shape it handles."""
    fast = _fast_wire(_PROBE)
    try:
        return fast is not None and json.dumps(fast) == json.dumps(sdk_wire(_PROBE))
    except Exception:  # an SDK whose private conversion changed: use it for everything
        return False


def wire_contents(contents: list[Json], memo: IdentityMemo) -> SentAsIs | None:
    """`contents` in wire form, each converted once while `memo` holds it; None when the installed SDK lacks the
    conversion functions used here (the caller then hands the SDK the stored contents, as before)."""
    if not _sdk_conversion_available():
        return None
    return SentAsIs(memo.value("wire", (content,), wire_content, content) for content in contents)


class KeptContents:
    """A session's request contents, kept from one turn to the next: the turn after builds only what is new.

    `build(messages, content_of, repair)` gives what `repair([content_of(m) for m in messages if not None])` gives
    (gemini.py's `gemini_contents`), and the same in wire form. The messages the turn before sent, in the same
    order, the same objects with the same native content and text, are not looked at again: a turn that adds
    messages at the end converts only those, and the one before them (whose unanswered calls depend on what
    follows it). An edit, retry, branch or switch changes the messages from some point on, and everything from
    there is built again. A message with attachments is always built again: its parts depend on this request's
    uploads. When the repair changed anything the turn before (calls without answers, rare), it runs over all.
    """

    def __init__(self) -> None:
        self._memo = IdentityMemo()  # wire form by content: a retried turn's earlier contents come back
        self._sources: list[tuple[Any, Any, Any]] = []  # per message: it, its native, its text (held)
        self._contents: list[Json | None] = []  # per message: content_of(message)
        self._repaired: list[Json] = []
        self._wire: SentAsIs | None = None
        self._repair_changed_nothing = False

    def build(
        self,
        messages: list[Any],
        content_of: Callable[[Any], Json | None],
        repair: Callable[[list[Json]], list[Json]],
    ) -> tuple[list[Json], SentAsIs | None]:
        sources = [(message, message.native, message.text) for message in messages]
        same = _same_prefix(self._sources, sources)
        contents = self._contents[:same] + [content_of(message) for message in messages[same:]]
        present = [content for content in contents if content is not None]
        # Contents before the first new one's predecessor repair the same way as before (see the class docstring).
        unchanged = sum(content is not None for content in contents[:same]) - 1
        if self._repair_changed_nothing and unchanged > 0:
            repaired = self._repaired[:unchanged] + repair(present[unchanged:])
        else:
            unchanged = 0
            repaired = repair(present)
        wire = None
        if _sdk_conversion_available():
            kept = self._wire[:unchanged] if self._wire is not None else []
            new = wire_contents(repaired[len(kept) :], self._memo) or []
            wire = SentAsIs(kept + new)
            kept_texts = (self._wire.texts or [])[: len(kept)] if self._wire is not None else []
            wire.texts = kept_texts + [self._memo.value("json", (content,), json.dumps, content) for content in new]
            self._memo.next_request()
        self._sources, self._contents, self._repaired, self._wire = sources, contents, repaired, wire
        self._repair_changed_nothing = len(repaired) == len(present) and all(map(operator.is_, repaired, present))
        return repaired, wire


def _same_prefix(before: list[tuple[Any, Any, Any]], now: list[tuple[Any, Any, Any]]) -> int:
    """How many leading messages are the same objects, with the same native content and text, as before; a message
    with attachments never is."""
    count = 0
    for (message, native, text), (message_now, native_now, text_now) in zip(before, now, strict=False):
        if message is not message_now or native is not native_now or text is not text_now or message_now.media:
            break
        count += 1
    return count
