"""Request building on a 2,000-message conversation with 500 function-call rounds: gemini_contents (now with
the unanswered-call check and the partialArgs check) vs. the same list without them, interleaved."""

import statistics
import time

from flashchat.core.conversation import Conversation, Message
from flashchat.providers import gemini

messages = []
for i in range(500):
    messages.append(Message("user", f"question {i}"))
    messages.append(
        Message(
            "model",
            "",
            provider="gemini",
            native={
                "role": "model",
                "parts": [
                    {
                        "function_call": {"name": "read_file", "args": {"path": f"f{i}.py"}, "id": f"c{i}"},
                        "thought_signature": "c2ln",
                    }
                ],
            },
        )
    )
    messages.append(
        Message(
            "user",
            "[tool results]",
            provider="gemini",
            native={
                "role": "user",
                "parts": [
                    {"function_response": {"name": "read_file", "id": f"c{i}", "response": {"result": "x" * 200}}}
                ],
            },
        )
    )
    messages.append(
        Message("model", f"answer {i}", provider="gemini", native={"role": "model", "parts": [{"text": f"answer {i}"}]})
    )
conversation = Conversation(messages=messages)


def plain() -> list:
    return [m.native if m.native else {"role": m.role, "parts": [{"text": m.text}]} for m in messages]


with_checks, without = [], []
for _ in range(21):
    t = time.perf_counter()
    gemini.gemini_contents(conversation)
    with_checks.append(time.perf_counter() - t)
    t = time.perf_counter()
    plain()
    without.append(time.perf_counter() - t)
m1, m0 = statistics.median(with_checks), statistics.median(without)
print(
    f"gemini_contents, 2,000 messages: median {m1 * 1e3:.2f} ms "
    f"(spread {min(with_checks) * 1e3:.2f}-{max(with_checks) * 1e3:.2f}); "
    f"the bare list: {m0 * 1e3:.2f} ms; the checks add {(m1 - m0) * 1e3:.2f} ms per request"
)
