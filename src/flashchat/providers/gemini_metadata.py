"""Reply metadata Gemini sends that flashchat keeps with the stored message (shown, never sent back).

- `responseId`: the server's id of the response, what Google support asks for.
- `finishMessage`: why an odd stop happened (MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL, ...) in words.
- the per-modality token breakdown (`promptTokensDetails`, `candidatesTokensDetails`, `cacheTokensDetails`,
  `toolUsePromptTokensDetails`): `{"prompt": {"TEXT": 10, "IMAGE": 258}, ...}`, a running total like usage.
"""

from __future__ import annotations

from typing import Any

from google.genai import types

from flashchat.core.conversation import ReplyDraft

_DETAILS = {
    "prompt": "prompt_tokens_details",
    "output": "candidates_tokens_details",
    "cached": "cache_tokens_details",
    "tool_use": "tool_use_prompt_tokens_details",
}


def token_details(metadata: types.GenerateContentResponseUsageMetadata) -> dict[str, dict[str, int]]:
    details: dict[str, dict[str, int]] = {}
    for name, field in _DETAILS.items():
        counts: dict[str, int] = {}
        for entry in getattr(metadata, field, None) or []:
            modality = getattr(entry.modality, "value", None) or str(entry.modality or "UNSPECIFIED")
            counts[modality] = counts.get(modality, 0) + (entry.token_count or 0)
        if counts:
            details[name] = counts
    return details


def keep_metadata(chunk: types.GenerateContentResponse, draft: ReplyDraft) -> None:
    extras: dict[str, Any] = draft.extras
    if chunk.response_id:
        extras["response_id"] = chunk.response_id
    candidate = chunk.candidates[0] if chunk.candidates else None
    if candidate is not None and candidate.finish_message:
        extras["finish_message"] = candidate.finish_message
    if chunk.usage_metadata is not None and (details := token_details(chunk.usage_metadata)):
        extras["token_details"] = details
