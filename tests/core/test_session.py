"""The engine against the fake Gemini server, over real HTTP with the real SDK."""

from __future__ import annotations

import base64
import contextlib
import dataclasses

import pytest

from flashchat.config.settings import Settings
from flashchat.core.conversation import Usage
from flashchat.core.errors import ErrorKind
from flashchat.core.events import Failed, Finished, Retrying, TextDelta, ThoughtDelta, UsageUpdate
from flashchat.core.session import ChatSession, RetryPolicy
from flashchat.testing.fake_gemini import DEFAULT_SIGNATURE, FakeGemini, Reply
from support import RecordingSleep, collect, make_session


def signature_bytes(value: str) -> bytes:
    """Signatures travel as base64, standard or URL-safe: compare the decoded bytes, never the strings."""
    return base64.urlsafe_b64decode(value.replace("+", "-").replace("/", "_") + "=" * (-len(value) % 4))


def request_signatures(content: dict) -> list[bytes]:
    return [
        signature_bytes(part.get("thoughtSignature") or part["thought_signature"])
        for part in content["parts"]
        if part.get("thoughtSignature") or part.get("thought_signature")
    ]


async def test_reply_streams_as_deltas_and_keeps_the_signature(fake: FakeGemini, settings: Settings) -> None:
    fake.enqueue(Reply.text("Hello there, streaming world.", thoughts="**Planning** a greeting", chunk_chars=6))
    session = make_session(dataclasses.replace(settings, show_thoughts=True))
    events = await collect(session.send("hi"))

    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    thoughts = "".join(e.text for e in events if isinstance(e, ThoughtDelta))
    assert text == "Hello there, streaming world."
    assert thoughts == "**Planning** a greeting"
    assert len([e for e in events if isinstance(e, TextDelta)]) == 5
    finished = events[-1]
    assert isinstance(finished, Finished) and finished.notice == ""
    reply = finished.message
    assert (reply.text, reply.finish_reason, reply.incomplete) == ("Hello there, streaming world.", "STOP", False)
    assert reply.native["parts"][-1]["text"] == ""
    assert signature_bytes(reply.native["parts"][-1]["thought_signature"]) == DEFAULT_SIGNATURE
    assert [m.role for m in session.conversation.messages] == ["user", "model"]
    await session.aclose()


async def test_second_request_echoes_every_signature_byte_exact(fake: FakeGemini, settings: Settings) -> None:
    """The empty-text part that carries the signature must survive into the next request."""
    fake.enqueue(Reply.text("First answer.", thoughts="thinking", chunk_chars=4))
    session = make_session(dataclasses.replace(settings, show_thoughts=True))
    await collect(session.send("first question"))
    await collect(session.send("second question"))

    first, second = fake.generate_requests()
    model_turn = second.contents[1]
    assert second.contents[0] == first.contents[0]
    assert model_turn["role"] == "model"
    assert [p.get("text") for p in model_turn["parts"]] == ["thinking", "First answer.", ""]
    assert model_turn["parts"][0].get("thought") is True
    assert request_signatures(model_turn) == [DEFAULT_SIGNATURE]
    assert second.contents[2] == {"role": "user", "parts": [{"text": "second question"}]}
    await session.aclose()


async def test_signature_on_last_text_part_is_not_merged_away(fake: FakeGemini, settings: Settings) -> None:
    fake.enqueue(Reply.text("abcdefgh", chunk_chars=3, signature_on_empty_part=False, signature=b"\x00sig\xff"))
    session = make_session(settings)
    await collect(session.send("q1"))
    await collect(session.send("q2"))
    model_turn = fake.generate_requests()[1].contents[1]
    assert "".join(p["text"] for p in model_turn["parts"]) == "abcdefgh"
    assert request_signatures(model_turn) == [b"\x00sig\xff"]
    signed = [p for p in model_turn["parts"] if "thoughtSignature" in p or "thought_signature" in p]
    assert signed[0]["text"] == "gh"  # the signed delta stays its own part, exactly as received
    await session.aclose()


async def test_thinking_level_follows_the_setting_for_each_turn(fake: FakeGemini, settings: Settings) -> None:
    session = make_session(settings)
    for level in ("minimal", "high", "low", "medium"):
        session.settings = dataclasses.replace(session.settings, thinking_level=level)
        events = await collect(session.send(f"at {level}"))
        assert events[-1].message.thinking_level == level
    assert [r.thinking_level() for r in fake.generate_requests()] == ["MINIMAL", "HIGH", "LOW", "MEDIUM"]
    await session.aclose()


async def test_usage_is_the_last_running_total_not_a_sum(fake: FakeGemini, settings: Settings) -> None:
    final = {"prompt": 1200, "candidates": 340, "thoughts": 90, "cached": 800}
    fake.enqueue(Reply.text("x" * 200, chunk_chars=20, usage=final))
    session = make_session(settings)
    events = await collect(session.send("count"))
    updates = [e.usage for e in events if isinstance(e, UsageUpdate)]
    assert len(updates) > 3
    assert [u.output for u in updates] == sorted(u.output for u in updates)
    expected = Usage(prompt=1200, output=340, thoughts=90, cached=800, tool_use=0, total=1200 + 340 + 90)
    assert updates[-1] == expected
    assert events[-1].message.usage == expected
    assert session.conversation.total_usage() == expected
    await session.aclose()


async def test_function_call_signature_is_echoed_and_the_fake_checks_it(fake: FakeGemini, settings: Settings) -> None:
    fake.enqueue(Reply.function_calls([("get_weather", {"city": "Paris"}), ("get_time", {"tz": "CET"})]))
    session = make_session(settings)
    await collect(session.send("weather and time?"))
    events = await collect(session.send("thanks"))
    assert isinstance(events[-1], Finished)
    model_turn = fake.generate_requests()[1].contents[1]
    calls = [p for p in model_turn["parts"] if "functionCall" in p or "function_call" in p]
    assert len(calls) == 2
    assert request_signatures({"parts": calls[:1]}) == [DEFAULT_SIGNATURE]
    assert request_signatures({"parts": calls[1:]}) == []

    # Drop the signature from history: the fake answers like the real API, with a 400 we report plainly.
    # (A new native content, as every change to history makes: a stored one is never edited in place.)
    reply = session.conversation.messages[1]
    parts = [{key: value for key, value in p.items() if key != "thought_signature"} for p in reply.native["parts"]]
    reply.native = {**reply.native, "parts": parts}
    events = await collect(session.send("again"))
    failure = events[-1]
    assert isinstance(failure, Failed) and failure.error.kind is ErrorKind.BAD_REQUEST
    assert "thought_signature" in failure.error.message
    assert len(fake.generate_requests()) == 3  # never retried
    await session.aclose()


@pytest.mark.parametrize(
    ("reply", "kind", "needle"),
    [
        (Reply.bad_key(), ErrorKind.BAD_KEY, "GEMINI_API_KEY"),
        (Reply.error(401), ErrorKind.BAD_KEY, "GEMINI_API_KEY"),
        (Reply.error(403), ErrorKind.PERMISSION, "Permission denied"),
        (Reply.error(404), ErrorKind.NOT_FOUND, "--model"),
        (Reply.error(400, message="Request contains an invalid argument."), ErrorKind.BAD_REQUEST, "invalid argument"),
    ],
)
async def test_client_errors_are_never_retried(
    fake: FakeGemini, settings: Settings, reply: Reply, kind: ErrorKind, needle: str
) -> None:
    fake.enqueue(reply, Reply.text("should never be fetched"))
    session = make_session(settings)
    events = await collect(session.send("hi"))
    assert [type(e) for e in events] == [Failed]
    assert events[0].error.kind is kind and needle in events[0].error.message
    assert events[0].message is None
    assert len(fake.generate_requests()) == 1
    await session.aclose()


async def test_wrong_key_gets_the_real_400_api_key_invalid(fake: FakeGemini, settings: Settings) -> None:
    session = make_session(dataclasses.replace(settings, api_key="AIza-not-a-real-key"))
    events = await collect(session.send("hi"))
    assert events[-1].error.kind is ErrorKind.BAD_KEY and events[-1].error.status == 400
    assert "AIza-not-a-real-key" not in events[-1].error.message
    await session.aclose()


async def test_rate_limit_backs_off_1_2_4_seconds_then_gives_up(
    fake: FakeGemini, settings: Settings, recording_sleep: RecordingSleep
) -> None:
    fake.enqueue(*[Reply.rate_limited(retry_delay=None) for _ in range(4)], Reply.text("too late"))
    session = ChatSession(settings, sleep=recording_sleep)
    events = await collect(session.send("hi"))
    retries = [e for e in events if isinstance(e, Retrying)]
    assert [(r.attempt, r.max_attempts) for r in retries] == [(2, 4), (3, 4), (4, 4)]
    for delay, base in zip(recording_sleep.delays, (1, 2, 4), strict=True):
        assert base <= delay <= base * 1.2 + 1e-9  # jitter stays within 20%
    assert isinstance(events[-1], Failed) and events[-1].error.kind is ErrorKind.RATE_LIMIT
    assert len(fake.generate_requests()) == 4
    await session.aclose()


async def test_rate_limit_honours_retry_info_then_succeeds(
    fake: FakeGemini, settings: Settings, recording_sleep: RecordingSleep
) -> None:
    fake.enqueue(Reply.rate_limited(retry_delay="7s"), Reply.text("made it"))
    session = ChatSession(settings, sleep=recording_sleep)
    events = await collect(session.send("hi"))
    retry = next(e for e in events if isinstance(e, Retrying))
    assert 7 <= retry.delay_seconds <= 7.2 and recording_sleep.delays == [retry.delay_seconds]
    assert "429" in retry.reason
    assert isinstance(events[-1], Finished) and events[-1].message.text == "made it"
    await session.aclose()


async def test_rate_limit_with_a_delay_past_the_cap_is_reported_not_waited(
    fake: FakeGemini, settings: Settings, recording_sleep: RecordingSleep
) -> None:
    fake.enqueue(Reply.rate_limited(retry_delay="3600s"))
    session = ChatSession(settings, sleep=recording_sleep)
    events = await collect(session.send("hi"))
    assert recording_sleep.delays == [] and events[-1].error.kind is ErrorKind.RATE_LIMIT
    assert events[-1].error.retry_after == 3600
    await session.aclose()


async def test_real_wait_of_a_short_retry_delay(fake: FakeGemini, settings: Settings) -> None:
    """Once with the real asyncio.sleep, so the wiring of the default sleep is exercised too."""
    fake.enqueue(Reply.rate_limited(retry_delay="0.05s"), Reply.text("ok"))
    session = ChatSession(settings)
    events = await collect(session.send("hi"))
    assert isinstance(events[-1], Finished) and len(fake.generate_requests()) == 2
    await session.aclose()


@pytest.mark.parametrize("code", [500, 503])
async def test_server_errors_are_retried_twice(fake: FakeGemini, settings: Settings, code: int) -> None:
    fake.enqueue(*[Reply.server_error(code) for _ in range(3)], Reply.text("unreached"))
    session = make_session(settings)
    events = await collect(session.send("hi"))
    assert len([e for e in events if isinstance(e, Retrying)]) == 2
    assert events[-1].error.kind is ErrorKind.SERVER and str(code) in events[-1].error.message
    assert len(fake.generate_requests()) == 3
    await session.aclose()


async def test_server_error_then_success(fake: FakeGemini, settings: Settings) -> None:
    fake.enqueue(Reply.server_error(503), Reply.text("recovered"))
    session = make_session(settings)
    events = await collect(session.send("hi"))
    assert isinstance(events[-1], Finished) and events[-1].message.text == "recovered"
    await session.aclose()


async def test_drop_mid_stream_keeps_partial_text_and_is_not_retried(fake: FakeGemini, settings: Settings) -> None:
    fake.enqueue(Reply.text("one two three four five six", chunk_chars=4, drop_after=3), Reply.text("unreached"))
    session = make_session(settings)
    events = await collect(session.send("hi"))
    failure = events[-1]
    assert isinstance(failure, Failed) and failure.error.kind is ErrorKind.NETWORK
    assert failure.message is not None and failure.message.incomplete
    assert failure.message.text == "one two thre"
    assert session.conversation.messages[-1] is failure.message
    assert len(fake.generate_requests()) == 1
    await session.aclose()


async def test_drop_before_the_first_token_is_retried(fake: FakeGemini, settings: Settings) -> None:
    fake.enqueue(Reply.text("never shown", drop_after=0), Reply.text("second try"))
    session = make_session(settings)
    events = await collect(session.send("hi"))
    assert any(isinstance(e, Retrying) for e in events)
    assert isinstance(events[-1], Finished) and events[-1].message.text == "second try"
    await session.aclose()


async def test_connection_refused_is_retried_then_reported(settings: Settings) -> None:
    dead = FakeGemini().start()
    url = dead.url
    dead.stop()
    session = make_session(dataclasses.replace(settings, base_url=url))
    events = await collect(session.send("hi"))
    assert len([e for e in events if isinstance(e, Retrying)]) == 2
    assert events[-1].error.kind is ErrorKind.NETWORK and "Could not connect" in events[-1].error.message
    await session.aclose()


async def test_stream_without_finish_reason_is_marked_incomplete(fake: FakeGemini, settings: Settings) -> None:
    fake.enqueue(Reply.text("cut short here", chunk_chars=5, truncate=True))
    session = make_session(settings)
    events = await collect(session.send("hi"))
    failure = events[-1]
    assert isinstance(failure, Failed) and failure.error.kind is ErrorKind.TRUNCATED
    assert failure.message.text == "cut short here" and failure.message.incomplete
    await session.aclose()


async def test_error_event_mid_stream_keeps_partial_text(fake: FakeGemini, settings: Settings) -> None:
    fake.enqueue(Reply.text("partial answer text", chunk_chars=5, error_after=2))
    session = make_session(settings)
    events = await collect(session.send("hi"))
    failure = events[-1]
    assert isinstance(failure, Failed) and failure.message.text == "partial an"
    assert failure.message.incomplete and len(fake.generate_requests()) == 1
    await session.aclose()


async def test_idle_gap_longer_than_the_timeout_fails_with_a_clear_message(
    fake: FakeGemini, settings: Settings
) -> None:
    fake.enqueue(Reply.text("slow slow slow", chunk_chars=5, delay_s=1.0))
    session = make_session(dataclasses.replace(settings, idle_timeout=0.3))
    events = await collect(session.send("hi"))
    failure = events[-1]
    assert failure.error.kind is ErrorKind.TIMEOUT and "idle_timeout" in failure.error.message
    assert failure.message.text == "slow "
    await session.aclose()


async def test_first_token_timeout(fake: FakeGemini, settings: Settings) -> None:
    fake.enqueue(Reply.text("late", first_delay_s=1.0))
    session = make_session(dataclasses.replace(settings, first_token_timeout=0.3))
    events = await collect(session.send("hi"))
    assert events[-1].error.kind is ErrorKind.TIMEOUT and "first_token_timeout" in events[-1].error.message
    assert events[-1].message is None
    await session.aclose()


async def test_slow_tokens_within_the_timeouts_arrive_one_by_one(fake: FakeGemini, settings: Settings) -> None:
    fake.enqueue(Reply.text("a b c d", chunk_chars=2, delay_s=0.05))
    session = make_session(settings)
    events = await collect(session.send("hi"))
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["a ", "b ", "c ", "d"]
    await session.aclose()


async def test_safety_stop_is_explained_and_left_out_of_the_next_request(fake: FakeGemini, settings: Settings) -> None:
    fake.enqueue(Reply.safety())
    session = make_session(settings)
    events = await collect(session.send("something risky"))
    assert isinstance(events[-1], Finished) and "safety" in events[-1].notice
    await collect(session.send("something else"))
    contents = fake.generate_requests()[1].contents
    assert [c["role"] for c in contents] == ["user", "user"]
    await session.aclose()


async def test_max_tokens_with_no_parts_says_what_to_change(fake: FakeGemini, settings: Settings) -> None:
    fake.enqueue(Reply.max_tokens_no_parts())
    session = make_session(dataclasses.replace(settings, max_output_tokens=64))
    events = await collect(session.send("hi"))
    assert isinstance(events[-1], Finished)
    assert "max_output_tokens" in events[-1].notice and "64" in events[-1].notice
    assert fake.generate_requests()[0].body["generationConfig"]["maxOutputTokens"] == 64
    await session.aclose()


async def test_blocked_prompt(fake: FakeGemini, settings: Settings) -> None:
    fake.enqueue(Reply.blocked_prompt("PROHIBITED_CONTENT"))
    session = make_session(settings)
    events = await collect(session.send("hi"))
    assert events[-1].error.kind is ErrorKind.BLOCKED and "PROHIBITED_CONTENT" in events[-1].error.message
    await session.aclose()


async def test_stopping_mid_reply_keeps_what_arrived(fake: FakeGemini, settings: Settings) -> None:
    fake.enqueue(Reply.text("first chunk then much more", chunk_chars=6, delay_s=0.2))
    session = make_session(settings)
    stream = session.send("hi")
    async with contextlib.aclosing(stream):
        async for event in stream:
            if isinstance(event, TextDelta):
                break
    kept = session.conversation.messages[-1]
    assert kept.role == "model" and kept.stopped and kept.incomplete
    assert kept.text == "first "
    await session.aclose()


async def test_regenerate_replaces_the_last_reply(fake: FakeGemini, settings: Settings) -> None:
    fake.enqueue(Reply.text("first take"), Reply.text("second take"))
    session = make_session(settings)
    await collect(session.send("hi"))
    events = await collect(session.regenerate())
    assert events[-1].message.text == "second take"
    assert [m.text for m in session.conversation.messages] == ["hi", "second take"]
    assert fake.generate_requests()[1].contents == fake.generate_requests()[0].contents
    await session.aclose()


async def test_only_set_sampling_options_are_sent(fake: FakeGemini, settings: Settings) -> None:
    session = make_session(dataclasses.replace(settings, system_prompt="Be terse."))
    await collect(session.send("hi"))
    session.settings = dataclasses.replace(session.settings, temperature=0.3)
    await collect(session.send("again"))
    first, second = fake.generate_requests()
    assert "temperature" not in first.body["generationConfig"] and "topP" not in first.body["generationConfig"]
    assert second.body["generationConfig"]["temperature"] == 0.3
    assert first.body["systemInstruction"]["parts"] == [{"text": "Be terse."}]
    await session.aclose()


def test_retry_policy_is_bounded() -> None:
    from flashchat.core.errors import ChatError

    policy = RetryPolicy()
    server = ChatError(ErrorKind.SERVER, "boom")
    assert [policy.delay(server, n) is not None for n in range(4)] == [True, True, False, False]
    assert policy.delay(ChatError(ErrorKind.BAD_KEY, "no"), 0) is None


async def test_models_are_listed_from_the_api(fake: FakeGemini, settings: Settings) -> None:
    session = make_session(settings)
    models = await session.provider.list_models(settings)
    flash = next(m for m in models if m.name == "gemini-3.5-flash")
    assert flash.input_token_limit == 1_048_576 and flash.output_token_limit == 65_536 and flash.thinking
    assert any(r.path.endswith("/models") for r in fake.requests)
    await session.aclose()


def test_creating_a_session_does_not_import_the_sdk() -> None:
    import subprocess
    import sys

    code = (
        "import sys\nfrom flashchat.config.settings import Settings\nfrom flashchat.core.session import ChatSession\n"
        "ChatSession(Settings())\nprint('google.genai' in sys.modules)\n"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


async def test_connect_timeout_is_applied_and_retried(settings: Settings) -> None:
    """A listener whose backlog is full never completes the TCP handshake: only the connect timeout ends it."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    try:
        session = make_session(dataclasses.replace(settings, base_url=f"http://127.0.0.1:{port}", connect_timeout=0.2))
        events = await collect(session.send("hi"))
        await session.aclose()
    finally:
        for sock in (*fillers, listener):
            sock.close()
    assert len([e for e in events if isinstance(e, Retrying)]) == 2
    failure = events[-1]
    assert failure.error.kind is ErrorKind.NETWORK and "within 0.2 s" in failure.error.message


async def test_forget_last_prompt_removes_it_and_its_answers(fake: FakeGemini, settings: Settings) -> None:
    from flashchat.store.conversation_store import open_store

    store = open_store()
    session = make_session(settings, store=store)
    await collect(session.send("first"))
    await collect(session.send("second, with a typo"))
    assert await session.forget_last_prompt() == "second, with a typo"
    assert [m.text for m in session.conversation.messages] == ["first", "Echo: first"]
    assert [m.text for m in store.load(session.conversation.id).messages] == ["first", "Echo: first"]
    await session.aclose()


async def test_retrying_names_the_kind_of_failure(fake: FakeGemini, settings: Settings) -> None:
    fake.enqueue(Reply.rate_limited(retry_delay="0.01s"), Reply.server_error(503), Reply.text("ok"))
    session = make_session(settings)
    events = await collect(session.send("hi"))
    assert [e.kind for e in events if isinstance(e, Retrying)] == [ErrorKind.RATE_LIMIT, ErrorKind.SERVER]
    await session.aclose()
