"""The OpenAI-compatible provider through ChatSession, over real HTTP against the fake server (no mocks)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from flashchat.config.settings import Settings
from flashchat.core.conversation import Conversation, Message, Usage
from flashchat.core.errors import ErrorKind
from flashchat.core.events import Failed, Finished, Retrying, TextDelta, ThoughtDelta, UsageUpdate
from flashchat.core.session import NOT_OFFERED, ChatSession
from flashchat.providers.openai_compat import usage_from
from flashchat.testing.fake_gemini import FakeGemini
from flashchat.testing.fake_gemini import Reply as GeminiReply
from flashchat.testing.fake_openai import DEFAULT_SIGNATURE, FakeOpenAI, Reply
from support import WIRE as SUPPORT_WIRE
from support import RecordingSleep, collect, make_session

WIRE = SUPPORT_WIRE / "pydantic-ai"


def texts(events: list, kind: type = TextDelta) -> str:
    return "".join(event.text for event in events if isinstance(event, kind))


# --- a turn --------------------------------------------------------------------------------------------


async def test_streamed_turn(fake_openai: FakeOpenAI, openai_settings: Settings) -> None:
    fake_openai.enqueue(Reply.text("Hello there, streaming world.", chunk_chars=6))
    session = make_session(dataclasses.replace(openai_settings, system_prompt="Be terse."))
    events = await collect(session.send("hi"))

    assert texts(events) == "Hello there, streaming world."
    assert len([e for e in events if isinstance(e, TextDelta)]) == 5
    finished = events[-1]
    assert isinstance(finished, Finished) and finished.notice == ""
    reply = finished.message
    assert (reply.provider, reply.finish_reason, reply.incomplete) == ("openai", "STOP", False)
    assert reply.model_version == "gemini-3.5-flash"
    assert reply.native == {
        "role": "assistant",
        "content": "Hello there, streaming world.",
        "extra_content": {"google": {"thought_signature": DEFAULT_SIGNATURE}},
    }
    request = fake_openai.completion_requests()[0]
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {fake_openai.api_key}"
    assert request.body == {
        "model": "gemini-3.5-flash",
        "messages": [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "reasoning_effort": "medium",
    }
    await session.aclose()


async def test_non_streamed_turn(fake_openai: FakeOpenAI, openai_settings: Settings) -> None:
    fake_openai.enqueue(Reply.text("One whole answer.", reasoning="Short.", usage=None))
    session = make_session(dataclasses.replace(openai_settings, stream=False, show_thoughts=True))
    events = await collect(session.send("hi"))
    assert [type(e) for e in events] == [ThoughtDelta, TextDelta, UsageUpdate, Finished]
    assert texts(events) == "One whole answer." and texts(events, ThoughtDelta) == "Short."
    request = fake_openai.completion_requests()[0]
    assert request.body["stream"] is False and "stream_options" not in request.body
    assert request.headers["accept"] == "application/json"
    reply = events[-1].message
    # Kept exactly as received, including the top-level copy of the signature Gemini's endpoint adds.
    assert reply.native == {
        "role": "assistant",
        "reasoning_content": "Short.",
        "content": "One whole answer.",
        "extra_content": {"google": {"thought_signature": DEFAULT_SIGNATURE}},
        "thought_signature": DEFAULT_SIGNATURE,
    }
    assert reply.finish_reason == "STOP" and reply.usage.total > 0
    await session.aclose()


async def test_a_server_that_answers_a_stream_request_with_json_still_works(
    fake_openai: FakeOpenAI, openai_settings: Settings
) -> None:
    recording = json.loads((WIRE / "test_compatible_api_with_tool_calls_without_id__01.json").read_text())
    body = json.loads(recording["response"]["body_text"])
    fake_openai.enqueue(Reply.completion_object(body))
    session = make_session(openai_settings)
    events = await collect(session.send("What is the current time?"))
    assert texts(events) == "The current time is Noon."
    assert events[-1].message.usage == Usage(prompt=66, output=6, thoughts=28, total=100)
    assert events[-1].message.model_version == "gemini-2.5-pro-preview-05-06"
    await session.aclose()


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_reasoning_is_shown_as_thoughts(fake_openai: FakeOpenAI, openai_settings: Settings, field: str) -> None:
    fake_openai.enqueue(Reply.text("Answer.", reasoning=["**Plan** ", "then answer"], reasoning_field=field))
    session = make_session(dataclasses.replace(openai_settings, show_thoughts=True))
    events = await collect(session.send("hi"))
    thought_events = [e for e in events if isinstance(e, ThoughtDelta)]
    assert [e.text for e in thought_events] == ["**Plan** ", "then answer"]
    assert events.index(thought_events[-1]) < events.index(next(e for e in events if isinstance(e, TextDelta)))
    assert events[-1].message.thoughts == "**Plan** then answer"
    await session.aclose()


async def test_reasoning_is_kept_but_not_streamed_when_thoughts_are_hidden(
    fake_openai: FakeOpenAI, openai_settings: Settings
) -> None:
    fake_openai.enqueue(Reply.text("Answer.", reasoning="hidden plan"))
    session = make_session(openai_settings)  # show_thoughts defaults to False
    events = await collect(session.send("hi"))
    assert not [e for e in events if isinstance(e, ThoughtDelta)]
    assert events[-1].message.thoughts == "hidden plan"
    await session.aclose()


# --- usage ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        # OpenAI: completion_tokens includes the reasoning tokens; output is what is left.
        (
            {
                "prompt_tokens": 100,
                "completion_tokens": 50,
                "total_tokens": 150,
                "prompt_tokens_details": {"cached_tokens": 20},
                "completion_tokens_details": {"reasoning_tokens": 30},
            },
            Usage(prompt=100, output=20, thoughts=30, cached=20, total=150),
        ),
        # Gemini's compatible endpoint (recorded): thoughts only in total_tokens.
        ({"completion_tokens": 12, "prompt_tokens": 35, "total_tokens": 109}, Usage(35, 12, 62, 0, 0, 109)),
        # Reasoning reported beside completion, and counted once in the total.
        (
            {
                "prompt_tokens": 10,
                "completion_tokens": 5,
                "total_tokens": 22,
                "completion_tokens_details": {"reasoning_tokens": 7},
            },
            Usage(prompt=10, output=5, thoughts=7, total=22),
        ),
        # A local server with no reasoning and no details.
        ({"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}, Usage(prompt=10, output=5, total=15)),
        # No total at all.
        ({"prompt_tokens": 10, "completion_tokens": 5}, Usage(prompt=10, output=5, total=15)),
    ],
)
async def test_usage_mapping(fake_openai: FakeOpenAI, openai_settings: Settings, usage: dict, expected: Usage) -> None:
    assert usage_from(usage) == expected
    fake_openai.enqueue(Reply.text("ok", usage=usage))
    session = make_session(openai_settings)
    events = await collect(session.send("hi"))
    assert [e.usage for e in events if isinstance(e, UsageUpdate)] == [expected]
    assert events[-1].message.usage == expected
    await session.aclose()


# --- thinking level and reasoning_effort ---------------------------------------------------------------


async def test_each_thinking_level_is_sent_as_reasoning_effort(
    fake_openai: FakeOpenAI, openai_settings: Settings
) -> None:
    session = make_session(openai_settings)
    for level in ("minimal", "low", "medium", "high"):
        session.settings = dataclasses.replace(openai_settings, thinking_level=level)
        assert isinstance((await collect(session.send(f"at {level}")))[-1], Finished)
    sent = [request.reasoning_effort for request in fake_openai.completion_requests()]
    assert sent == ["minimal", "low", "medium", "high"]
    await session.aclose()


async def test_an_endpoint_that_rejects_reasoning_effort_gets_one_retry_without_it_and_a_notice(
    openai_settings: Settings,
) -> None:
    with FakeOpenAI(reject_reasoning_effort=True) as fake:
        settings = dataclasses.replace(openai_settings, base_url=fake.url, thinking_level="high")
        session = make_session(settings)
        events = await collect(session.send("hi"))
        assert not [e for e in events if isinstance(e, Retrying)]
        finished = events[-1]
        assert isinstance(finished, Finished) and finished.message.text == "Echo: hi"
        assert "reasoning_effort='high'" in finished.notice and "no effect" in finished.notice
        first, second = fake.completion_requests()
        assert first.reasoning_effort == "high" and "reasoning_effort" not in second.body
        assert {key: value for key, value in first.body.items() if key != "reasoning_effort"} == second.body

        # Remembered: the next turn goes without the field at once, and without repeating the notice.
        events = await collect(session.send("again"))
        assert events[-1].notice == "" and len(fake.completion_requests()) == 3
        assert "reasoning_effort" not in fake.completion_requests()[-1].body
        await session.aclose()


async def test_the_reasoning_effort_fallback_is_not_a_loop(fake_openai: FakeOpenAI, openai_settings: Settings) -> None:
    rejection = Reply.error(400, "Unrecognized request argument supplied: reasoning_effort", param="reasoning_effort")
    fake_openai.enqueue(rejection, Reply.error(400, "messages: still wrong"), Reply.text("unreached"))
    session = make_session(openai_settings)
    events = await collect(session.send("hi"))
    assert [type(e) for e in events] == [Failed]
    assert events[0].error.kind is ErrorKind.BAD_REQUEST and "still wrong" in events[0].error.message
    assert len(fake_openai.completion_requests()) == 2
    await session.aclose()


async def test_only_the_rejected_level_is_dropped(openai_settings: Settings) -> None:
    with FakeOpenAI(reject_reasoning_effort={"minimal"}) as fake:
        session = make_session(dataclasses.replace(openai_settings, base_url=fake.url, thinking_level="minimal"))
        assert (await collect(session.send("one")))[-1].notice
        session.settings = dataclasses.replace(session.settings, thinking_level="high")
        assert (await collect(session.send("two")))[-1].notice == ""
        assert [r.reasoning_effort for r in fake.completion_requests()] == ["minimal", None, "high"]
        await session.aclose()


async def test_sampling_options_and_max_tokens_only_when_set(
    fake_openai: FakeOpenAI, openai_settings: Settings
) -> None:
    session = make_session(openai_settings)
    await collect(session.send("plain"))
    session.settings = dataclasses.replace(openai_settings, temperature=0.3, top_p=0.9, max_output_tokens=256)
    await collect(session.send("tuned"))
    first, second = fake_openai.completion_requests()
    assert not {"temperature", "top_p", "max_tokens"} & set(first.body)
    assert (second.body["temperature"], second.body["top_p"], second.body["max_tokens"]) == (0.3, 0.9, 256)
    await session.aclose()


async def test_length_finish_says_the_reply_was_cut(fake_openai: FakeOpenAI, openai_settings: Settings) -> None:
    fake_openai.enqueue(Reply.text("cut at the li", finish_reason="length"))
    session = make_session(dataclasses.replace(openai_settings, max_output_tokens=5))
    events = await collect(session.send("hi"))
    assert events[-1].message.finish_reason == "MAX_TOKENS" and "output limit (5 tokens)" in events[-1].notice
    await session.aclose()


# --- errors and retries --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "kind", "needles"),
    [
        (Reply.error(400, "Invalid 'messages[1]'", param="messages"), ErrorKind.BAD_REQUEST,
         ["400 invalid_request_error", "param 'messages'", "Invalid 'messages[1]'"]),
        (Reply.bad_key(), ErrorKind.BAD_KEY, ["401 authentication_error", "Check api_key"]),
        (Reply.error(403), ErrorKind.PERMISSION, ["403 permission_error"]),
        (Reply.error(404, "The model `nope` does not exist"), ErrorKind.NOT_FOUND, ["base_url", "/v1"]),
    ],
)  # fmt: skip
async def test_client_errors_are_never_retried(
    fake_openai: FakeOpenAI, openai_settings: Settings, reply: Reply, kind: ErrorKind, needles: list[str]
) -> None:
    fake_openai.enqueue(reply, Reply.text("should never be fetched"))
    session = make_session(openai_settings)
    events = await collect(session.send("hi"))
    assert [type(e) for e in events] == [Failed]
    error = events[0].error
    assert error.kind is kind and error.status == reply.status
    for needle in needles:
        assert needle in error.message
    assert len(fake_openai.completion_requests()) == 1
    await session.aclose()


async def test_wrong_key_is_rejected_without_echoing_it(fake_openai: FakeOpenAI, openai_settings: Settings) -> None:
    settings = dataclasses.replace(
        openai_settings, api_key="sk-not-the-right-key-9999", origins={"api_key": "OPENAI_API_KEY"}
    )
    session = make_session(settings)
    events = await collect(session.send("hi"))
    error = events[-1].error
    assert error.kind is ErrorKind.BAD_KEY and "Check the key from OPENAI_API_KEY" in error.message
    assert "sk-not-the-right-key-9999" not in error.message
    await session.aclose()


async def test_missing_key_says_how_to_set_one(fake_openai: FakeOpenAI, openai_settings: Settings) -> None:
    session = make_session(dataclasses.replace(openai_settings, api_key="", endpoint="gateway"))
    events = await collect(session.send("hi"))
    error = events[-1].error
    assert error.kind is ErrorKind.BAD_KEY
    assert "OPENAI_API_KEY" in error.message and "[endpoints.gateway]" in error.message
    assert "authorization" not in fake_openai.completion_requests()[0].headers
    await session.aclose()


async def test_a_local_server_works_without_a_key(openai_settings: Settings) -> None:
    with FakeOpenAI(api_keys=()) as fake:
        session = make_session(dataclasses.replace(openai_settings, base_url=fake.url, api_key=""))
        events = await collect(session.send("hi"))
        assert isinstance(events[-1], Finished) and events[-1].message.text == "Echo: hi"
        assert "authorization" not in fake.completion_requests()[0].headers
        await session.aclose()


async def test_rate_limit_backs_off_1_2_4_seconds_then_gives_up(
    fake_openai: FakeOpenAI, openai_settings: Settings, recording_sleep: RecordingSleep
) -> None:
    fake_openai.enqueue(*[Reply.rate_limited(retry_after=None) for _ in range(4)], Reply.text("too late"))
    session = ChatSession(openai_settings, sleep=recording_sleep)
    events = await collect(session.send("hi"))
    retries = [e for e in events if isinstance(e, Retrying)]
    assert [(r.attempt, r.max_attempts) for r in retries] == [(2, 4), (3, 4), (4, 4)]
    for delay, base in zip(recording_sleep.delays, (1, 2, 4), strict=True):
        assert base <= delay <= base * 1.2 + 1e-9
    failure = events[-1]
    assert isinstance(failure, Failed) and failure.error.kind is ErrorKind.RATE_LIMIT
    assert "429 rate_limit_error" in failure.error.message
    assert len(fake_openai.completion_requests()) == 4
    await session.aclose()


async def test_rate_limit_honours_retry_after_then_succeeds(
    fake_openai: FakeOpenAI, openai_settings: Settings, recording_sleep: RecordingSleep
) -> None:
    fake_openai.enqueue(Reply.rate_limited(retry_after="7"), Reply.text("made it"))
    session = ChatSession(openai_settings, sleep=recording_sleep)
    events = await collect(session.send("hi"))
    retry = next(e for e in events if isinstance(e, Retrying))
    assert 7 <= retry.delay_seconds <= 7.2 and recording_sleep.delays == [retry.delay_seconds]
    assert isinstance(events[-1], Finished) and events[-1].message.text == "made it"
    await session.aclose()


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors_are_retried_twice_and_keep_the_request_id(
    fake_openai: FakeOpenAI, openai_settings: Settings, status: int
) -> None:
    replies = [Reply.server_error(status, request_id=f"req_{n}") for n in range(3)]
    fake_openai.enqueue(*replies, Reply.text("unreached"))
    session = make_session(openai_settings)
    events = await collect(session.send("hi"))
    assert len([e for e in events if isinstance(e, Retrying)]) == 2
    error = events[-1].error
    assert error.kind is ErrorKind.SERVER and error.status == status
    assert str(status) in error.message and "request id req_2" in error.message
    assert len(fake_openai.completion_requests()) == 3
    await session.aclose()


async def test_server_error_then_success(fake_openai: FakeOpenAI, openai_settings: Settings) -> None:
    fake_openai.enqueue(Reply.server_error(500), Reply.text("recovered"))
    session = make_session(openai_settings)
    events = await collect(session.send("hi"))
    assert isinstance(events[-1], Finished) and events[-1].message.text == "recovered"
    await session.aclose()


async def test_drop_mid_stream_keeps_partial_text_and_is_not_retried(
    fake_openai: FakeOpenAI, openai_settings: Settings
) -> None:
    # Events: the role chunk, then "one ", "two ", "thre", ...: dropped after the third text chunk.
    fake_openai.enqueue(Reply.text("one two three four five", chunk_chars=4, drop_after=4), Reply.text("unreached"))
    session = make_session(openai_settings)
    events = await collect(session.send("hi"))
    failure = events[-1]
    assert isinstance(failure, Failed) and failure.error.kind is ErrorKind.NETWORK
    assert "dropped in the middle" in failure.error.message
    assert failure.message is not None and failure.message.incomplete
    assert failure.message.text == "one two thre"
    assert failure.message.native == {"role": "assistant", "content": "one two thre"}
    assert session.conversation.messages[-1] is failure.message
    assert len(fake_openai.completion_requests()) == 1
    await session.aclose()


async def test_drop_before_any_content_is_retried(fake_openai: FakeOpenAI, openai_settings: Settings) -> None:
    # Only the empty role chunk arrived: nothing the user saw, so the session may try again.
    fake_openai.enqueue(Reply.text("never shown", drop_after=1), Reply.text("second try"))
    session = make_session(openai_settings)
    events = await collect(session.send("hi"))
    assert any(isinstance(e, Retrying) for e in events)
    assert isinstance(events[-1], Finished) and events[-1].message.text == "second try"
    await session.aclose()


async def test_connection_refused_is_retried_then_reported(openai_settings: Settings) -> None:
    dead = FakeOpenAI().start()
    url = dead.url
    dead.stop()
    session = make_session(dataclasses.replace(openai_settings, base_url=url))
    events = await collect(session.send("hi"))
    assert len([e for e in events if isinstance(e, Retrying)]) == 2
    assert events[-1].error.kind is ErrorKind.NETWORK and "Could not connect" in events[-1].error.message
    await session.aclose()


async def test_base_url_without_a_scheme_is_reported_not_retried(openai_settings: Settings) -> None:
    session = make_session(dataclasses.replace(openai_settings, base_url="localhost:8080/v1"))
    events = await collect(session.send("hi"))
    assert [type(e) for e in events] == [Failed]
    assert events[0].error.kind is ErrorKind.BAD_REQUEST and "http://" in events[0].error.message
    await session.aclose()


async def test_stream_without_done_or_finish_reason_is_marked_incomplete(
    fake_openai: FakeOpenAI, openai_settings: Settings
) -> None:
    fake_openai.enqueue(Reply.text("cut short here", chunk_chars=5, truncate=True))
    session = make_session(openai_settings)
    events = await collect(session.send("hi"))
    failure = events[-1]
    assert isinstance(failure, Failed) and failure.error.kind is ErrorKind.TRUNCATED
    assert failure.message.text == "cut short here" and failure.message.incomplete
    await session.aclose()


async def test_a_finish_reason_without_done_is_complete(fake_openai: FakeOpenAI, openai_settings: Settings) -> None:
    fake_openai.enqueue(Reply.text("all here", no_done=True))
    session = make_session(openai_settings)
    events = await collect(session.send("hi"))
    assert isinstance(events[-1], Finished) and not events[-1].message.incomplete
    await session.aclose()


async def test_error_event_mid_stream_keeps_partial_text(fake_openai: FakeOpenAI, openai_settings: Settings) -> None:
    fake_openai.enqueue(Reply.text("partial answer text", chunk_chars=5, error_after=3))
    session = make_session(openai_settings)
    events = await collect(session.send("hi"))
    failure = events[-1]
    assert isinstance(failure, Failed) and failure.error.kind is ErrorKind.SERVER
    assert failure.message.text == "partial an" and failure.message.incomplete
    assert len(fake_openai.completion_requests()) == 1
    await session.aclose()


async def test_sse_comments_event_lines_and_multiline_data_are_understood(
    fake_openai: FakeOpenAI, openai_settings: Settings
) -> None:
    body = (
        ": OPENROUTER PROCESSING\r\n\r\n"
        'event: message\r\nid: 1\r\ndata: {"choices": [{"index": 0,\r\ndata: "delta": {"content": "joi"}}]}\r\n\r\n'
        'data:{"choices":[{"index":0,"delta":{"content":"ned"},"finish_reason":"stop"}]}\n\n'
        "data: [DONE]\n\n"
    )
    recording = {"response": {"status": 200, "headers": {"content-type": "text/event-stream"}, "body_text": body}}
    fake_openai.enqueue(Reply.replay(recording))
    session = make_session(openai_settings)
    events = await collect(session.send("hi"))
    assert isinstance(events[-1], Finished) and events[-1].message.text == "joined"
    await session.aclose()


async def test_an_unreadable_event_is_a_bad_response(fake_openai: FakeOpenAI, openai_settings: Settings) -> None:
    body = "data: {not json\n\n"
    recording = {"response": {"status": 200, "headers": {"content-type": "text/event-stream"}, "body_text": body}}
    fake_openai.enqueue(Reply.replay(recording))
    session = make_session(openai_settings)
    events = await collect(session.send("hi"))
    assert [type(e) for e in events] == [Failed] and events[0].error.kind is ErrorKind.BAD_RESPONSE
    await session.aclose()


async def test_stopping_mid_reply_keeps_what_arrived(fake_openai: FakeOpenAI, openai_settings: Settings) -> None:
    fake_openai.enqueue(Reply.text("word " * 30, chunk_chars=5, delay_s=0.05))
    session = make_session(openai_settings)
    stream = session.send("hi")
    async for event in stream:
        if isinstance(event, TextDelta) and event.text.startswith("word"):
            break
    await stream.aclose()
    kept = session.conversation.messages[-1]
    assert kept.role == "model" and kept.stopped and kept.incomplete and kept.text.startswith("word")
    await session.aclose()


# --- history and signatures ----------------------------------------------------------------------------


async def test_signature_round_trip(fake_openai: FakeOpenAI, openai_settings: Settings) -> None:
    fake_openai.enqueue(Reply.text("First answer.", reasoning="private"))
    session = make_session(openai_settings)
    await collect(session.send("first"))
    await collect(session.send("second"))
    second = fake_openai.completion_requests()[1]
    assert second.roles() == ["user", "assistant", "user"]
    assistant = second.assistant_messages()[0]
    assert assistant == {
        "role": "assistant",
        "content": "First answer.",
        "extra_content": {"google": {"thought_signature": DEFAULT_SIGNATURE}},
    }
    assert fake_openai.server_errors == []
    await session.aclose()


async def test_recorded_signature_goes_back_exactly(fake_openai: FakeOpenAI, openai_settings: Settings) -> None:
    recording = json.loads((WIRE / "test_compatible_api_with_tool_calls_without_id__01.json").read_text())
    recorded = json.loads(recording["response"]["body_text"])["choices"][0]["message"]
    fake_openai.enqueue(Reply.replay(recording))
    session = make_session(dataclasses.replace(openai_settings, stream=False))
    events = await collect(session.send("What is the current time?"))
    assert events[-1].message.native == recorded
    await collect(session.send("Thanks"))
    sent = fake_openai.completion_requests()[1].assistant_messages()[0]
    assert sent["extra_content"] == recorded["extra_content"]
    assert sent["extra_content"]["google"]["thought_signature"] == recorded["thought_signature"]
    assert "thought_signature" not in sent and sent["content"] == "The current time is Noon."
    await session.aclose()


async def test_streamed_tool_calls_are_merged_with_their_signature(
    fake_openai: FakeOpenAI, openai_settings: Settings
) -> None:
    fake_openai.enqueue(Reply.tool_calls([("get_time", {"zone": "UTC"}), ("get_date", {})]))
    session = make_session(openai_settings)
    events = await collect(session.send("time?"))
    finished = next(event for event in events if isinstance(event, Finished))
    native = finished.message.native
    assert native["tool_calls"] == [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_time", "arguments": '{"zone": "UTC"}'},
            "extra_content": {"google": {"thought_signature": DEFAULT_SIGNATURE}},
        },
        {"id": "call_2", "type": "function", "function": {"name": "get_date", "arguments": "{}"}},
    ]
    # A stop to call tools is a normal stop; the calls (of tools flashchat does not have) are answered.
    assert finished.message.finish_reason == "TOOL_CALLS" and finished.notice == ""
    assert session.conversation.messages[-1].native == {
        "tool_messages": [
            {
                "role": "tool",
                "tool_call_id": f"call_{n}",
                "content": json.dumps({"error": NOT_OFFERED.format(name=name)}),
            }
            for n, name in ((1, "get_time"), (2, "get_date"))
        ]
    }
    await session.aclose()


async def test_gemini_replies_go_to_an_openai_endpoint_as_text(
    fake_openai: FakeOpenAI, openai_settings: Settings
) -> None:
    gemini_reply = Message(
        role="model",
        text="From Gemini.",
        provider="gemini",
        native={"role": "model", "parts": [{"text": "From Gemini.", "thought_signature": "AAAA"}]},
    )
    conversation = Conversation(messages=[Message(role="user", text="hi"), gemini_reply])
    session = make_session(openai_settings, conversation=conversation)
    await collect(session.send("and now?"))
    assert fake_openai.completion_requests()[0].messages == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "From Gemini."},
        {"role": "user", "content": "and now?"},
    ]
    await session.aclose()


async def test_switching_provider_mid_conversation(
    fake: FakeGemini, settings: Settings, fake_openai: FakeOpenAI, openai_settings: Settings
) -> None:
    """One session, settings replaced (as an endpoint switcher does): the provider follows, history carries."""
    session = make_session(openai_settings)
    await collect(session.send("to openai"))
    session.settings = settings
    fake.enqueue(GeminiReply.text("From Gemini."))
    events = await collect(session.send("to gemini"))
    assert isinstance(events[-1], Finished) and events[-1].message.provider == "gemini"
    contents = fake.generate_requests()[0].contents
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    assert contents[1]["parts"] == [{"text": "Echo: to openai"}]
    session.settings = openai_settings
    await collect(session.send("back"))
    messages = fake_openai.completion_requests()[-1].messages
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant", "user"]
    assert messages[3] == {"role": "assistant", "content": "From Gemini."}
    assert "extra_content" in messages[1]
    await session.aclose()


async def test_incomplete_reply_is_sent_back_as_received(fake_openai: FakeOpenAI, openai_settings: Settings) -> None:
    fake_openai.enqueue(Reply.text("half an ans", chunk_chars=4, truncate=True))
    session = make_session(openai_settings)
    await collect(session.send("one"))
    await collect(session.send("two"))
    assert fake_openai.completion_requests()[1].assistant_messages() == [
        {"role": "assistant", "content": "half an ans"}
    ]
    await session.aclose()


# --- models and startup --------------------------------------------------------------------------------


async def test_models_are_listed_from_the_endpoint(fake_openai: FakeOpenAI, openai_settings: Settings) -> None:
    session = make_session(openai_settings)
    models = await session.provider.list_models(openai_settings)
    assert "gemini-3.5-flash" in [model.name for model in models]
    assert fake_openai.requests[-1].path == "/v1/models"
    bad = dataclasses.replace(openai_settings, api_key="sk-wrong-wrong-wrong")
    with pytest.raises(Exception) as caught:
        await session.provider.list_models(bad)
    assert caught.value.kind is ErrorKind.BAD_KEY
    await session.aclose()


def test_creating_an_openai_session_imports_no_http_stack() -> None:
    code = (
        "import sys\nfrom flashchat.config.settings import Settings\nfrom flashchat.core.session import ChatSession\n"
        "ChatSession(Settings(provider='openai'))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('google', 'httpx2', 'openai'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_provider_does_not_import_google_genai() -> None:
    code = "import sys\nimport flashchat.providers.openai_compat\nprint('google.genai' in sys.modules)\n"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_import_provider_loads_only_the_chosen_module() -> None:
    code = (
        "import sys\nfrom flashchat.config.settings import Settings\nfrom flashchat.providers import import_provider\n"
        "import_provider(Settings(provider='openai'))\n"
        "print('flashchat.providers.openai_compat' in sys.modules, 'google.genai' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["True", "False"]
