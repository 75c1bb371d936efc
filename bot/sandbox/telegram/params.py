"""Bot API request parameters from JSON, form-urlencoded or multipart bodies, and the errors
Telegram answers with."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web


class ApiError(Exception):
    """A Bot API refusal: becomes ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, code: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def to_json(self) -> dict:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


@dataclass
class Upload:
    """A file part of a multipart request."""

    data: bytes
    filename: str | None
    content_type: str | None


class Params:
    """Parameters of one call. Form and multipart bodies carry every value as a string (PTB
    JSON-encodes lists and objects); JSON bodies carry real types. The getters accept both."""

    def __init__(self, values: dict[str, Any], uploads: dict[str, Upload] | None = None):
        self.values = values
        self.uploads = uploads or {}

    def __contains__(self, name: str) -> bool:
        return self.values.get(name) is not None or name in self.uploads

    def raw(self, name: str, default: Any = None) -> Any:
        value = self.values.get(name)
        return default if value is None else value

    def str(self, name: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.values.get(name)
        if value is None:
            if required:
                raise bad_request(f"parameter \"{name}\" is required")
            return default
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def int(self, name: str, default: int | None = None, *, required: bool = False) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(f"parameter \"{name}\" is required")
            return default
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            try:
                as_float = float(value)
            except (TypeError, ValueError):
                raise bad_request(f"invalid {name} specified") from None
            return int(as_float)

    def float(self, name: str, default: float | None = None) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def bool(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            return bool(value)
        return str(value).strip().lower() in ("true", "1", "yes", "on")

    def json(self, name: str, default: Any = None) -> Any:
        """An object or list parameter, given natively (JSON body) or JSON-encoded (form body)."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, (dict, list)):
            return value
        try:
            return json.loads(value)
        except (TypeError, ValueError):
            raise bad_request(f"can't parse {name} JSON object") from None

    def chat_id(self, required: bool = True) -> int | str | None:
        value = self.values.get("chat_id")
        if value is None or value == "":
            if required:
                raise bad_request("chat_id is empty")
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        if text.startswith("@"):
            return text
        try:
            return int(text)
        except ValueError:
            raise bad_request("chat not found") from None


async def read_params(request: web.Request) -> Params:
    """Query string plus body, whatever the content type."""
    values: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    ctype = request.content_type
    if request.can_read_body:
        if ctype == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON body") from None
            if not isinstance(body, dict):
                raise bad_request("JSON body must be an object")
            values.update(body)
        elif ctype == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if part.name is None:
                    continue
                if part.filename is not None:
                    data = await part.read(decode=False)
                    uploads[part.name] = Upload(bytes(data), part.filename, part.headers.get("Content-Type"))
                else:
                    values[part.name] = await part.text()
        else:
            form = await request.post()
            for key, value in form.items():
                if hasattr(value, "file"):
                    uploads[key] = Upload(value.file.read(), value.filename, value.content_type)
                else:
                    values[key] = value
    return Params(values, uploads)
