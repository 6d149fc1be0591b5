"""Continuing a long conversation: generateContent vs the Interactions API, stateful and stateless. Prints numbers;
asserts nothing.

    python bench/interactions.py [--messages 2000] [--runs 7]

For one stored conversation (default 2,000 messages, about 4 MB of text and thought signatures, like the 1M-token
chat of issue 16) each mode sends one more turn through the real google-genai client to the project's fake host
(flashchat.testing.fake_interactions, which also serves generateContent), and we measure
  - bytes uploaded: the request line, headers and body as the fake received them;
  - client time until the request is sent: from `session.send()` to the moment the fake has read the whole body
    (time.monotonic() on both sides: one clock on Linux), so history conversion, JSON encoding, the SDK's own
    validation and the local transfer are all in it (and, for a big body, the fake's own JSON parse: it runs in
    this process and holds the GIL);
  - client CPU: the CPU time of the client's thread over the same span, which a loaded machine changes far less;
  - flashchat: our own request building alone (history to request body), without the SDK.
The three modes run interleaved, round after round, on the same machine load; medians and min–max per mode. The
same is done for a conversation a tenth as long, to show whether a mode's cost grows with the history.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import copy
import secrets
import statistics
import threading
import time

from flashchat.config.settings import Settings
from flashchat.core.conversation import Conversation, Message
from flashchat.core.session import ChatSession
from flashchat.testing.fake_interactions import FakeInteractions, StoredInteraction, decode_signature

USER_CHARS = 1_500
REPLY_CHARS = 2_000
SIGNATURE_BYTES = 900  # base64: 1,200 characters, like the gemini-3.5-flash capture's 1,224


def build_histories(messages: int, endpoint: str) -> tuple[Conversation, Conversation, str]:
    """The same conversation twice: replies as generateContent stored them, and as the Interactions API did.
    The Interactions copy's last reply carries an interaction id (returned so the fake can be told it)."""
    generate, interactions = Conversation(model="gemini-3.5-flash"), Conversation(model="gemini-3.5-flash")
    last_id = ""
    for turn in range(messages // 2):
        question = f"Question {turn}: " + "lorem ipsum dolor sit amet " * (USER_CHARS // 27)
        answer = f"Answer {turn}: " + "consectetur adipiscing elit sed do " * (REPLY_CHARS // 35)
        signature = secrets.token_bytes(SIGNATURE_BYTES)
        for conversation in (generate, interactions):
            conversation.add(Message(role="user", text=question, model="gemini-3.5-flash"))
        generate.add(
            Message(
                role="model",
                text=answer,
                provider="gemini",
                model="gemini-3.5-flash",
                native={
                    "role": "model",
                    "parts": [{"text": answer, "thought_signature": base64.urlsafe_b64encode(signature).decode()}],
                },
            )
        )
        last_id = f"v1_{secrets.token_urlsafe(24)}"
        steps = [
            {"type": "thought", "signature": base64.b64encode(signature).decode()},
            {"type": "model_output", "content": [{"type": "text", "text": answer}]},
        ]
        interactions.add(
            Message(
                role="model",
                text=answer,
                provider="gemini",
                model="gemini-3.5-flash",
                native={"steps": steps},
                interaction_id=last_id,
                interaction_endpoint=endpoint,
            )
        )
    return generate, interactions, last_id


def request_building_seconds(session: ChatSession) -> float:
    """flashchat's own part of the client time: turning the history into the request (the SDK's part is the rest:
    it builds a pydantic model class for every request it serialises, ~10-40 ms here whatever the body)."""
    from flashchat.providers.gemini import gemini_contents, generation_config
    from flashchat.providers.gemini_interactions import request_body

    session.conversation.add(Message(role="user", text="And one more question?"))
    started = time.perf_counter()
    if session.settings.api == "interactions":
        request_body(session.conversation, session.settings)
    else:
        gemini_contents(session.conversation)
        generation_config(session.settings)
    elapsed = time.perf_counter() - started
    session.conversation.messages.pop()
    return elapsed


async def one_turn(fake: FakeInteractions, session: ChatSession) -> tuple[int, float, float]:
    """Bytes uploaded, seconds from send() until the fake had the whole request, and client CPU seconds."""
    arrived: list[float] = []
    cpu_at_arrival: list[float] = []
    # The client is one thread (asyncio); the fake answers on others. Its CPU clock, read by the fake the moment
    # the body is in, is the client's own work to send, which the shared machine's load changes far less.
    client_cpu = time.pthread_getcpuclockid(threading.main_thread().ident or 0)

    def note_arrival(request: object) -> None:
        arrived.append(time.monotonic())
        cpu_at_arrival.append(time.clock_gettime(client_cpu))

    fake.responder = note_arrival  # type: ignore[assignment]
    fake.generate.responder = note_arrival  # type: ignore[assignment]
    count = len(fake.requests)
    cpu_started = time.clock_gettime(client_cpu)
    started = time.monotonic()
    async for _event in session.send("And one more question?"):
        pass
    request = fake.requests[count]
    head = sum(len(name) + len(value) + 4 for name, value in request.headers.items())
    uploaded = len(f"{request.method} {request.path} HTTP/1.1\r\n") + head + 2 + len(request.raw)
    del session.conversation.messages[-2:]  # back to the same history for the next round
    return uploaded, arrived[0] - started, cpu_at_arrival[0] - cpu_started


async def measure(messages: int, runs: int) -> dict[str, tuple[list[int], list[float], list[float], list[float]]]:
    with FakeInteractions() as fake:
        base = Settings(api_key=fake.api_key, base_url=fake.url, first_token_timeout=60, idle_timeout=60)
        generate_history, interactions_history, last_id = build_histories(messages, fake.url.rstrip("/"))
        fake.stored[last_id] = StoredInteraction(last_id, "gemini-3.5-flash", [])
        signatures = [
            step["signature"]
            for m in interactions_history.messages
            for step in (m.native or {}).get("steps", [])
            if step.get("signature")
        ]
        fake.accept_signatures(decode_signature(signature) or b"" for signature in signatures)
        modes = {
            "generateContent": (base, generate_history),
            "Interactions stateful": (base.with_overrides("bench", api="interactions"), interactions_history),
            "Interactions stateless": (
                base.with_overrides("bench", api="interactions", store=False),
                copy.deepcopy(interactions_history),
            ),
        }
        # One session per mode for the whole run, as a user has: its client and connections stay warm.
        sessions = {name: ChatSession(settings, conversation=history) for name, (settings, history) in modes.items()}
        results: dict[str, tuple[list[int], list[float], list[float], list[float]]] = {
            name: ([], [], [], []) for name in modes
        }
        for round_number in range(runs + 1):  # round 0 warms up imports and connections
            for name, session in sessions.items():
                uploaded, seconds, cpu = await one_turn(fake, session)
                if round_number:
                    results[name][0].append(uploaded)
                    results[name][1].append(seconds)
                    results[name][2].append(cpu)
                    results[name][3].append(request_building_seconds(session))
        for session in sessions.values():
            await session.aclose()
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(
        f"{'messages':>8}  {'mode':<24} {'uploaded':>14}  {'client ms to sent (median, min-max)':>36}"
        f"  {'client CPU ms':>14}  {'flashchat ms':>13}"
    )
    for messages in (args.messages, args.messages // 10):
        results = asyncio.run(measure(messages, args.runs))
        for name, (uploads, seconds, cpu, building) in results.items():
            milliseconds = [value * 1000 for value in seconds]
            spread = f"{statistics.median(milliseconds):8.1f} ({min(milliseconds):.1f}-{max(milliseconds):.1f})"
            own = f"{statistics.median(building) * 1000:.2f}"
            used = f"{statistics.median(cpu) * 1000:.1f}"
            print(f"{messages:>8}  {name:<24} {statistics.median(uploads):>12,} B  {spread:>36}  {used:>14}  {own:>13}")


if __name__ == "__main__":
    main()
