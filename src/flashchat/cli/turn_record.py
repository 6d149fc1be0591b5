"""What one one-shot turn did, over every hop of its tool loop: for `--json` and the `--usage` line.

A turn with tools is several replies (call, answer, call, answer, text). The server's usage is a running
total per reply, so the turn's usage is the finished replies' totals plus the running one; thoughts and text
are every reply's, in order; each function call is listed with its arguments and what it was answered; code
the model ran (code execution) is listed with its language, code, outcome and output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flashchat.core.conversation import Usage
from flashchat.core.events import Failed, Finished, ToolFinished, UsageUpdate

if TYPE_CHECKING:
    from flashchat.core.conversation import Message
    from flashchat.core.events import Event


class TurnRecord:
    def __init__(self) -> None:
        self.replies: list[Message] = []
        self.tool_calls: list[dict[str, Any]] = []
        self._earlier = Usage()  # the replies already finished
        self._running: Usage | None = None  # the reply streaming now
        self._reported = False

    def add(self, event: Event) -> None:
        match event:
            case UsageUpdate(usage):
                self._running, self._reported = usage, True
            case Finished(message) | Failed(message=message) if message is not None:
                self.replies.append(message)
                if message.usage is not None or self._running is not None:
                    self._earlier = self._earlier + (message.usage or self._running or Usage())
                self._running = None
            case ToolFinished(call, response, approved, declared):
                self.tool_calls.append(
                    {
                        "name": call.name,
                        "id": call.id,
                        "args": call.args,
                        "approved": approved,
                        "offered": declared,
                        "response": response,
                    }
                )
            case _:
                pass

    @property
    def usage(self) -> Usage | None:
        """The turn's tokens so far, every hop included; None when the server reported none."""
        if not self._reported:
            return None
        return self._earlier + (self._running or Usage())

    def thoughts(self) -> str:
        return "".join(reply.thoughts for reply in self.replies)

    def text(self) -> str:
        return "".join(reply.text for reply in self.replies)

    def code_execution(self) -> list[dict[str, Any]]:
        """Each piece of code the model ran, with the result that followed it (None if none arrived)."""
        runs: list[dict[str, Any]] = []
        for reply in self.replies:
            for part in (reply.native or {}).get("parts") or [] if reply.provider == "gemini" else []:
                code = part.get("executable_code") or part.get("executableCode")
                result = part.get("code_execution_result") or part.get("codeExecutionResult")
                if isinstance(code, dict):
                    language = str(code.get("language") or "").lower().replace("language_unspecified", "")
                    runs.append({"language": language, "code": code.get("code") or "", "outcome": None, "output": None})
                elif isinstance(result, dict):
                    if not runs or runs[-1]["outcome"] is not None:
                        runs.append({"language": "", "code": "", "outcome": None, "output": None})
                    runs[-1]["outcome"] = result.get("outcome") or "OUTCOME_UNSPECIFIED"
                    runs[-1]["output"] = result.get("output") or ""
        return runs
