"""The request contents kept between turns (providers/gemini_contents.py) are byte for byte what the SDK builds.

Every request body the fake receives is compared with the body the SDK's own public call sends for the same
history from a fresh client: turn after turn in one session, after edits, retries and tool rounds, and across a
restart from the store. The fast conversion of one content is compared with the SDK's conversion for every
content of the recorded real traffic and for generated contents of every shape.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from google import genai
from google.genai import types
from hypothesis import event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from flashchat.config.settings import Settings
from flashchat.core.conversation import Conversation, Message
from flashchat.core.session import ChatSession, ToolApproval
from flashchat.providers import gemini_contents
from flashchat.providers.gemini import gemini_contents as stored_contents
from flashchat.providers.gemini import generation_config, message_content
from flashchat.providers.gemini_calls import answer_unanswered
from flashchat.providers.gemini_contents import (
    IdentityMemo,
    KeptContents,
    sdk_wire,
    spliced_body,
    wire_content,
    wire_contents,
)
from flashchat.store.conversation_store import open_store
from flashchat.testing.fake_gemini import FakeGemini, Reply, decode_signature
from support import FAST_RETRIES, RECORDINGS


def _gemini_reply(text: str, parts: list[dict[str, Any]]) -> Message:
    """A reply as the Gemini provider stores it."""
    return Message(role="model", text=text, provider="gemini", native={"parts": parts, "role": "model"})


def _recorded_contents() -> list[dict[str, Any]]:
    contents = []
    for path in RECORDINGS:
        body = json.loads(path.read_text())["request"].get("body")
        body = json.loads(body) if isinstance(body, str) and body.startswith("{") else body
        if isinstance(body, dict):
            contents += [content for content in body.get("contents") or [] if isinstance(content, dict)]
    return contents


def _as_stored(content: dict[str, Any]) -> dict[str, Any] | None:
    """A recorded (wire) content as flashchat stores a reply: the SDK's Content, dumped."""
    try:
        return types.Content.model_validate(content).model_dump(mode="json", exclude_none=True)
    except ValueError:
        return None  # a shape the SDK does not take (another client's fields): not something we store


def test_every_recorded_content_converts_as_the_sdk_converts_it() -> None:
    recorded = _recorded_contents()
    stored = [content for content in map(_as_stored, recorded) if content is not None]
    assert len(stored) > 300
    fast = 0
    for content in stored:
        assert json.dumps(wire_content(content)) == json.dumps(sdk_wire(content))
        fast += gemini_contents._fast_wire(content) is not None
    # The fast path is the one taken for nearly all of them (the rest: media, executable code, tool calls).
    assert fast / len(stored) > 0.8
    # The recorded wire form itself (camelCase) is left to the SDK and converts as it always did.
    for content in recorded[:50]:
        if _as_stored(content) is not None:
            assert json.dumps(wire_content(content)) == json.dumps(sdk_wire(content))


def test_the_fast_path_agrees_with_the_installed_sdk() -> None:
    assert gemini_contents._fast_path_agrees()


_signature_bytes = st.binary(min_size=0, max_size=40)
_signature = st.one_of(
    _signature_bytes.map(lambda raw: base64.urlsafe_b64encode(raw).decode()),  # as the SDK stores it
    _signature_bytes.map(lambda raw: base64.b64encode(raw).decode()),  # standard alphabet (an import)
    _signature_bytes.map(lambda raw: base64.urlsafe_b64encode(raw).decode().rstrip("=")),  # unpadded
    st.text(max_size=12),
    st.integers(),
)
_json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
_call = st.dictionaries(
    st.sampled_from(["id", "args", "name", "partial_args", "will_continue"]),
    st.one_of(st.text(max_size=6), st.dictionaries(st.text(max_size=5), _json_value, max_size=3), st.none()),
    max_size=4,
)
_response = st.dictionaries(
    st.sampled_from(["id", "name", "response", "will_continue", "scheduling"]),
    st.one_of(st.text(max_size=6), st.dictionaries(st.text(max_size=5), _json_value, max_size=3), st.none()),
    max_size=4,
)
_part = st.fixed_dictionaries(
    {},
    optional={
        "text": st.one_of(st.text(max_size=10), st.integers()),
        "thought": st.one_of(st.booleans(), st.none(), st.just("true"), st.just(1)),
        "thought_signature": _signature,
        "function_call": _call,
        "function_response": _response,
        "executable_code": st.just({"code": "print(1)", "language": "PYTHON"}),
        "mystery": st.integers(),
    },
)
# Parts as flashchat stores them (the fast path's shapes), mixed with the odd ones above.
_stored_part = st.one_of(
    st.fixed_dictionaries({"text": st.text(max_size=10)}, optional={"thought": st.booleans()}),
    st.fixed_dictionaries({"text": st.just("")}, optional={"thought_signature": _signature}),
    st.fixed_dictionaries(
        {"function_call": st.fixed_dictionaries(
            {"name": st.text(max_size=6)},
            optional={"id": st.text(max_size=6), "args": st.dictionaries(st.text(max_size=5), _json_value, max_size=3)},
        )},
        optional={"thought_signature": _signature},
    ),
    st.fixed_dictionaries(
        {"function_response": st.fixed_dictionaries(
            {"name": st.text(max_size=6)},
            optional={"id": st.text(max_size=6), "response": st.dictionaries(st.text(max_size=5), _json_value)},
        )}
    ),
)  # fmt: skip
_content = st.fixed_dictionaries(
    {"parts": st.lists(st.one_of(_stored_part, _stored_part, _stored_part, _part), max_size=4)},
    optional={"role": st.sampled_from(["user", "model", "function"]), "extra": st.just(1) | st.none()},
)


@hypothesis_settings(max_examples=400, deadline=None)
@given(_content)
def test_any_content_converts_as_the_sdk_converts_it(content: dict[str, Any]) -> None:
    """Whatever the shape: the fast path either gives the SDK's exact result or leaves the content to the SDK."""
    fast = gemini_contents._fast_wire(content)
    event("fast path" if fast is not None else "left to the SDK")
    if fast is not None:
        assert json.dumps(fast) == json.dumps(sdk_wire(content))


def test_kept_contents_are_reused_and_forgotten_with_their_message() -> None:
    first = {"parts": [{"text": "a"}], "role": "user"}
    second = {"parts": [{"text": "b", "thought_signature": "c2ln"}], "role": "model"}
    memo = IdentityMemo()
    wire = wire_contents([first, second], memo)
    memo.next_request()
    assert wire is not None and wire == [{"parts": [{"text": "a"}], "role": "user"}, sdk_wire(second)]
    again = wire_contents([first, second, {"parts": [{"text": "c"}], "role": "user"}], memo)
    memo.next_request()
    assert again is not None and again[1] is wire[1]  # converted once
    replaced = {"parts": [{"text": "b2"}], "role": "model"}  # a retry's new reply: a new object
    assert (wire_contents([first, replaced], memo) or [])[1] == {"parts": [{"text": "b2"}], "role": "model"}
    memo.next_request()
    assert ("wire", id(second)) not in memo._kept  # gone from the conversation, gone from the memo


def _kept_build(kept: KeptContents, conversation: Conversation) -> list[dict[str, Any]]:
    contents, wire = kept.build(conversation.messages, message_content, answer_unanswered)
    assert contents == stored_contents(conversation)  # what a fresh build gives
    assert wire is not None and [json.dumps(w) for w in wire] == [json.dumps(sdk_wire(c)) for c in contents]
    return contents


def test_a_message_changed_by_assignment_is_built_again() -> None:
    """A message's content is replaced, never edited in place; an assigned one is a new object and builds anew."""
    reply = Message(role="model", text="x", provider="gemini", native={"parts": [{"text": "x"}], "role": "model"})
    conversation = Conversation(messages=[Message(role="user", text="hi"), reply, Message(role="user", text="more")])
    kept = KeptContents()
    assert _kept_build(kept, conversation)[1]["parts"] == [{"text": "x"}]
    reply.native = {"parts": [{"text": "y"}], "role": "model"}
    conversation.messages[0].text = "hello"
    assert _kept_build(kept, conversation)[:2] == [
        {"role": "user", "parts": [{"text": "hello"}]},
        {"parts": [{"text": "y"}], "role": "model"},
    ]


def test_kept_contents_follow_appends_removals_and_unanswered_calls() -> None:
    """Turn after turn the kept build equals a fresh one: appended turns, a retried reply, an edited prompt, a call
    left without its answer (repaired, then answered) and a conversation switched to."""
    call = {"parts": [{"function_call": {"id": "c1", "args": {}, "name": "read_file"}, "thought_signature": "c2ln"}]}
    call["role"] = "model"
    answer = {"parts": [{"function_response": {"id": "c1", "name": "read_file", "response": {"r": 1}}}]}
    answer["role"] = "user"
    messages = [Message(role="user", text="q1"), Message(role="model", text="a1", provider="gemini")]
    conversation = Conversation(messages=messages)
    kept = KeptContents()
    _kept_build(kept, conversation)
    conversation.add(Message(role="user", text="q2"))
    _kept_build(kept, conversation)
    conversation.add(Message(role="model", text="", provider="gemini", native=call))
    assert len(_kept_build(kept, conversation)) == 5  # the unanswered call gets an error answer of its own
    conversation.add(Message(role="user", text="[tool results]", provider="gemini", native=answer))
    conversation.add(Message(role="model", text="done", provider="gemini"))
    _kept_build(kept, conversation)
    conversation.messages.pop()  # a retry
    conversation.add(Message(role="model", text="done again", provider="gemini"))
    _kept_build(kept, conversation)
    del conversation.messages[2:]  # an edit of the second prompt
    conversation.add(Message(role="user", text="q2, edited"))
    assert _kept_build(kept, conversation)[-1] == {"role": "user", "parts": [{"text": "q2, edited"}]}
    other = Conversation(messages=[Message(role="user", text="elsewhere")])
    assert _kept_build(kept, other) == [{"role": "user", "parts": [{"text": "elsewhere"}]}]


# --- the request bodies, turn after turn ------------------------------------------------------------------


class Recorder:
    """Each generate request the session sent: its body, and the history and settings it was sent with (the
    reply is not in the history yet). The reference requests of `_sdk_body` take scripted replies and pass by."""

    def __init__(self, fake: FakeGemini, session_holder: list[ChatSession]) -> None:
        self.sent: list[tuple[bytes, list[Message], Settings]] = []
        self.replies: list[Reply] = []
        self._holder = session_holder
        fake.responder = self.respond

    def respond(self, request: Any) -> Reply:
        session = self._holder[0]
        self.sent.append((request.raw, list(session.conversation.messages), session.settings))
        return self.replies.pop(0) if self.replies else Reply.text(f"Answer {len(self.sent)}.")


async def _sdk_body(fake: FakeGemini, history: list[Message], settings: Settings) -> bytes:
    """The body the SDK's own public call sends for `history`, from a fresh client (no flashchat cache)."""
    before = len(fake.requests)
    fake.enqueue(Reply.text("reference"))
    client = genai.Client(api_key=fake.api_key, vertexai=False, http_options=types.HttpOptions(base_url=fake.url))
    contents = stored_contents(Conversation(messages=history))
    stream = await client.aio.models.generate_content_stream(
        model=settings.model, contents=contents, config=generation_config(settings)
    )
    async for _chunk in stream:
        pass
    await client.aio.aclose()
    return fake.requests[before].raw


async def _assert_bodies_match_the_sdk(fake: FakeGemini, recorder: Recorder, first: int = 0) -> int:
    checked = recorder.sent[first:]
    assert checked
    for body, history, used in checked:
        assert body == await _sdk_body(fake, history, used)
    return len(checked)


async def test_request_bodies_are_the_sdks_turn_after_turn_and_after_a_restart(
    fake: FakeGemini, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("the notes\n")
    settings = Settings(
        api_key=fake.api_key, base_url=fake.url, first_token_timeout=20, idle_timeout=20, local_tools=True
    )
    store = open_store(tmp_path / "history.db")

    async def approve(call: Any) -> ToolApproval:
        return ToolApproval.ALWAYS

    holder: list[ChatSession] = []
    recorder = Recorder(fake, holder)
    session = ChatSession(settings, store=store, retry_policy=FAST_RETRIES, approve_tool=approve, working_dir=tmp_path)
    holder.append(session)
    recorder.replies += [
        Reply.text("Hello.", thoughts="**Greeting**"),
        Reply.function_calls(
            [("read_file", {"path": "notes.txt"}), ("list_directory", {"path": "."})], thoughts="**Reading**"
        ),
        Reply.text("The notes say: the notes."),
        Reply.text("Third.", signature=b"\xfa\xfb\xfc-a signature with url-safe characters-\xff\xfe"),
        Reply.text("A retried answer."),
        Reply.text("An answer to the edited prompt."),
    ]
    for prompt in ("hi", "read my notes", "and again"):
        async for _event in session.send(prompt):
            pass
    async for _event in session.regenerate():  # retry: the last reply replaced
        pass
    await session.forget_last_prompt()  # edit: the last prompt and its reply removed, then sent anew
    async for _event in session.send("and again, edited"):
        pass
    session.update_settings(thinking_level="high")  # a setting that changes the request, not the contents
    async for _event in session.send("one more"):
        pass
    await session.aclose()
    checked = await _assert_bodies_match_the_sdk(fake, recorder)
    assert checked == 7  # six turns, one of them a tool round of two requests

    # Every signature went back: the call's bytes exactly as issued (the fake checks, and so do we).
    last = json.loads(recorder.sent[-1][0])["contents"]
    signatures = [decode_signature(p["thoughtSignature"]) for c in last for p in c["parts"] if "thoughtSignature" in p]
    assert b"\xfa\xfb\xfc-a signature with url-safe characters-\xff\xfe" not in signatures  # that reply was retried
    assert len(signatures) >= 4

    # A restart: a fresh process has only the store.
    conversation_id = session.conversation.id
    assert conversation_id is not None
    reopened = ChatSession(settings, store=store, retry_policy=FAST_RETRIES, approve_tool=approve, working_dir=tmp_path)
    reopened.open(store.load(conversation_id))
    holder[0] = reopened
    for prompt in ("after the restart", "and once more"):
        async for _event in reopened.send(prompt):
            pass
    await reopened.aclose()
    assert await _assert_bodies_match_the_sdk(fake, recorder, first=checked) == 2
    store.close()


async def test_switching_conversations_sends_only_the_open_ones_contents(fake: FakeGemini, settings: Settings) -> None:
    holder: list[ChatSession] = []
    recorder = Recorder(fake, holder)
    session = ChatSession(settings, retry_policy=FAST_RETRIES)
    holder.append(session)
    async for _event in session.send("first conversation"):
        pass
    kept = session.conversation
    session.new()
    async for _event in session.send("second conversation"):
        pass
    session.open(kept)
    async for _event in session.send("back to the first"):
        pass
    await session.aclose()
    assert await _assert_bodies_match_the_sdk(fake, recorder) == 3
    texts = [c["parts"][0]["text"] for c in json.loads(recorder.sent[2][0])["contents"]]
    assert texts[0] == "first conversation" and "second conversation" not in texts


@pytest.mark.parametrize(
    ("signature", "raw"),
    [
        ("-vv8_f7_YWJj", b"\xfa\xfb\xfc\xfd\xfe\xffabc"),  # the SDK's own spelling
        ("+vv8/f7/YWJj", b"\xfa\xfb\xfc\xfd\xfe\xffabc"),  # the standard alphabet
        ("-vv8_f7_YQ", b"\xfa\xfb\xfc\xfd\xfe\xffa"),  # without its padding
    ],
)
async def test_a_stored_signature_in_any_base64_spelling_goes_back_as_the_sdk_sends_it(
    fake: FakeGemini, settings: Settings, signature: str, raw: bytes
) -> None:
    """An imported reply may spell its signature in the standard alphabet or without padding: the SDK's own
    conversion takes it (the fast path only takes the SDK's spelling), and the bytes are the same."""
    history = [
        Message(role="user", text="hi"),
        _gemini_reply("Hello", [{"text": "Hello", "thought_signature": signature}]),
    ]
    holder: list[ChatSession] = []
    recorder = Recorder(fake, holder)
    session = ChatSession(settings, conversation=Conversation(messages=list(history)), retry_policy=FAST_RETRIES)
    holder.append(session)
    async for _event in session.send("again"):
        pass
    await session.aclose()
    assert await _assert_bodies_match_the_sdk(fake, recorder) == 1
    sent = json.loads(recorder.sent[0][0])["contents"][1]["parts"][0]["thoughtSignature"]
    assert decode_signature(sent) == raw


def test_the_spliced_body_is_the_json_the_sdk_would_encode() -> None:
    conversation = Conversation(
        messages=[
            Message(role="user", text='a "quoted" ✓ question'),
            _gemini_reply("x", [{"text": "x"}, {"text": "", "thought_signature": "c2lnbmF0dXJl"}]),
            Message(role="user", text="more"),
        ]
    )
    _, wire = KeptContents().build(conversation.messages, message_content, answer_unanswered)
    assert wire is not None
    request = {"contents": wire, "systemInstruction": {"parts": [{"text": "Be brief ✓"}]}, "generationConfig": {}}
    assert spliced_body(request) == json.dumps(request).encode("utf-8")
    assert spliced_body({"contents": wire}) == json.dumps({"contents": wire}).encode("utf-8")
    assert spliced_body({"contents": list(wire)}) is None  # not ours: the SDK encodes it
    assert spliced_body({"model": "m", "contents": wire}) is None  # contents not first
