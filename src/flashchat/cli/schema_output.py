"""`flashchat -p --schema FILE_OR_JSON`: ask for JSON that matches a JSON Schema, and check the reply against it.

The schema goes to the API (Gemini: response_mime_type application/json with response_json_schema; an
OpenAI-compatible server: response_format json_schema), so the model is held to it while it writes. The reply
is still checked here before it is printed: a server may ignore the schema, a reply may be cut off, and a
script reading stdout should get JSON that matches or an error and exit code 3, never something in between.
Validation uses the `jsonschema` library: JSON Schema has dozens of keywords ($ref, anyOf, formats...) whose
exact meaning is that library's business, not ours.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flashchat.config.settings import ConfigError

# A schema file is read whole: bigger than this is not a schema someone wrote by hand.
SCHEMA_FILE_BYTES = 1_000_000


class SchemaMismatch(Exception):
    """The reply is not JSON that matches the schema; str() is one line that says where and why."""


def load_schema(given: str) -> dict[str, Any]:
    """The schema from `given`: inline JSON (it starts with "{" or "["), else a file's path. Bad: ConfigError."""
    text = given.strip()
    where = "--schema"
    if not text.startswith(("{", "[")):
        path = Path(given)
        where = f"--schema {given}"
        try:
            if path.stat().st_size > SCHEMA_FILE_BYTES:
                raise ConfigError(f"{where}: the file is larger than {SCHEMA_FILE_BYTES:,} bytes; is it a schema?")
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(
                f"{where}: no such file (give a JSON Schema file, or the schema itself as JSON)"
            ) from None
        except UnicodeDecodeError:
            raise ConfigError(f"{where}: the file is not UTF-8 text") from None
        except OSError as error:
            raise ConfigError(f"{where}: cannot read the file ({error.strerror or error})") from None
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(
            f"{where}: not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        ) from None
    except RecursionError:
        raise ConfigError(f"{where}: the JSON is nested too deeply") from None
    if not isinstance(schema, dict):
        raise ConfigError(f"{where}: a JSON Schema is an object ({{...}}), not {type(schema).__name__}")
    _check_schema(schema, where)
    return schema


def _check_schema(schema: dict[str, Any], where: str) -> None:
    from jsonschema import SchemaError
    from jsonschema.validators import validator_for

    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as error:
        raise ConfigError(f"{where}: not a valid JSON Schema: {error.message}{_at(error.absolute_path)}") from None


def validated_json(reply_text: str, schema: dict[str, Any]) -> Any:
    """The reply parsed as JSON and checked against `schema`; raises SchemaMismatch."""
    from jsonschema import ValidationError
    from jsonschema.validators import validator_for

    try:
        value = json.loads(reply_text)
    except json.JSONDecodeError as error:
        shown = "the reply is empty" if not reply_text.strip() else f"{error.msg} at line {error.lineno}"
        raise SchemaMismatch(f"the reply is not JSON ({shown})") from None
    except RecursionError:
        raise SchemaMismatch("the reply's JSON is nested too deeply") from None
    validator = validator_for(schema)(schema)
    try:
        validator.validate(value)
    except ValidationError as error:
        raise SchemaMismatch(
            f"the reply does not match the schema: {error.message}{_at(error.absolute_path)}"
        ) from None
    except RecursionError:
        raise SchemaMismatch("the reply's JSON is nested too deeply to check") from None
    return value


def _at(path: Any) -> str:
    """at $.items[2].name, for a message (empty at the top level)."""
    parts = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)
    return f" (at ${parts})" if parts else ""
