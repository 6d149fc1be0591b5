"""Chunks read without the SDK's models (`PlainChunk`) leave the reply exactly as the SDK's conversion would.

Each stream is absorbed twice: once with every chunk converted by the SDK (what `generate_content_stream`
yields), once as the provider now reads it (plain chunks from the JSON, the rest through the SDK). The stored
native content, the extras, the usage and the text must be identical, byte for byte once serialised.
"""

from __future__ import annotations

import json

import pytest
from test_replay import recorded_events

from flashchat.core.conversation import ReplyDraft
from flashchat.providers.gemini import _absorb, _absorb_plain, _PartCollector
from flashchat.providers.gemini_raw_stream import plain_chunk, sdk_chunk
from flashchat.testing.fake_gemini import encode_signature
from support import SSE_RECORDINGS

SIGNATURE = encode_signature(b"\x01\x02signature\xff")
USAGE = {
    "promptTokenCount": 12,
    "candidatesTokenCount": 3,
    "totalTokenCount": 40,
    "thoughtsTokenCount": 25,
    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 10}, {"modality": "IMAGE", "tokenCount": 2}],
}


def chunk(*parts: dict, usage: dict | None = USAGE) -> dict:
    return {"candidates": [{"content": {"parts": list(parts), "role": "model"}, "index": 0}], "usageMetadata": usage}


def absorbed(events: list[dict], *, fast: bool) -> tuple[str, list]:
    draft, collector = ReplyDraft(model="gemini-3.5-flash", thinking_level="high"), _PartCollector()
    draft.native_content = collector.native
    stream_events = []
    for body in events:
        plain = plain_chunk(body) if fast else None
        if plain is not None:
            stream_events += _absorb_plain(plain, draft, collector)
        else:
            stream_events += _absorb(sdk_chunk(body, None, None), draft, collector)
    kept = {
        "native": draft.native_content(),
        "extras": draft.extras,
        "usage": repr(draft.usage),
        "text": draft.text_pieces,
        "thoughts": draft.thought_pieces,
        "model_version": draft.model_version,
        "finish": draft.finish_reason,
        "calls": repr(draft.function_calls),
        "received": draft.received_content,
    }
    return json.dumps(kept), [repr(event) for event in stream_events]


MIXED = [
    chunk({"text": "Let me think", "thought": True}, usage={"promptTokenCount": 12, "totalTokenCount": 12}),
    chunk({"text": " more.", "thought": True}),
    chunk({"text": "Hello", "thought": False}),
    chunk({"text": ", "}),
    chunk({"text": "signed", "thoughtSignature": SIGNATURE}),
    chunk({"text": " world"}, {"text": ""}),
    {**chunk({"text": "!"}), "modelVersion": "gemini-3.5-flash-001", "responseId": "resp-1"},
    chunk({"functionCall": {"name": "read_file", "args": {"path": "a.txt"}}, "thoughtSignature": SIGNATURE}),
    chunk({"text": "after the call"}),
    chunk({"text": "", "thoughtSignature": SIGNATURE}),
    {"candidates": [{"content": {"parts": [], "role": "model"}, "finishReason": "STOP", "index": 0}]},
    {"usageMetadata": {**USAGE, "candidatesTokensDetails": [{"modality": "TEXT", "tokenCount": 3}]}},
]


@pytest.mark.parametrize("recording", SSE_RECORDINGS, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_a_recorded_stream_is_kept_the_same(recording):
    events = recorded_events(json.loads(recording.read_text()))
    assert absorbed(events, fast=True) == absorbed(events, fast=False)


def test_a_mixed_stream_is_kept_the_same():
    assert sum(plain_chunk(body) is not None for body in MIXED) >= 6  # the fast path was taken
    assert absorbed(MIXED, fast=True) == absorbed(MIXED, fast=False)


@pytest.mark.parametrize(
    "body",
    [
        chunk({"text": "a", "thoughtSignature": SIGNATURE}),
        chunk({"functionCall": {"name": "f", "args": {}}}),
        chunk({"text": 5}),
        chunk({"text": "a", "thought": "yes"}),
        chunk({"text": "a", "videoMetadata": {}}),
        chunk({"text": "a"}, usage={"promptTokenCount": "5"}),
        chunk({"text": "a"}, usage={"promptTokenCount": 5.0}),
        chunk({"text": "a"}, usage={"promptTokenCount": True}),
        chunk({"text": "a"}, usage={"trafficType": "ON_DEMAND"}),
        chunk({"text": "a"}, usage={"promptTokensDetails": [{"modality": "SMELL", "tokenCount": 1}]}),
        {**chunk({"text": "a"}), "promptFeedback": {"blockReason": "SAFETY"}},
        {**chunk({"text": "a"}), "modelVersion": 3},
        {"candidates": [{"content": {"parts": [{"text": "a"}]}, "finishReason": "STOP"}]},
        {"candidates": [{"content": {"parts": [{"text": "a"}]}}, {"content": {"parts": [{"text": "b"}]}}]},
        {"candidates": []},
        {"candidates": "text"},
        ["not", "an", "object"],
    ],
)
def test_anything_but_text_and_usage_goes_through_the_sdk(body):
    assert plain_chunk(body) is None
