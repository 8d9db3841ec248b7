"""``multipart/form-data`` request bodies, as Front takes them for uploads.

Front sends one form field per JSON property (``body``, ``is_pinned=true``) and files as
``attachments[]``; arrays repeat a bracketed name (``to[]=a&to[]=b``, or numbered ``to[0]``),
nested objects bracket their keys (``sender[handle]``, ``options[tag_ids][]``). ``parse_form``
turns such a form back into the JSON body it stands for, and validates it like one.

The body is parsed as it streams in: a file past the per-file limit, or a body past the total
limit, is a 413 before anything is stored; a body that is not well-formed multipart is a 400.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import pydantic
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from porch.api.http import Request, validation_details
from porch.domain import attachments
from porch.domain.errors import BadRequest, PayloadTooLarge
from porch.store.attachments import StoredFile

M = TypeVar("M", bound=pydantic.BaseModel)

# A sane bound on a whole upload (several files of up to 25 MB each).
MAX_TOTAL_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Upload:
    """One file part: its form field, file name, declared type and bytes."""

    name: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class Form:
    """A parsed form: text fields by name (repeated names kept in order) and file parts."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[Upload] = field(default_factory=list)


def is_multipart(req: Request) -> bool:
    return (req.header("content-type") or "").lower().startswith("multipart/")


@dataclass
class _Part:
    headers: dict[str, bytes] = field(default_factory=dict)
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0


class _Collector:
    """The parser's callbacks: assemble parts and enforce the limits as bytes arrive."""

    def __init__(self, *, max_file: int, max_field: int) -> None:
        self.max_file = max_file
        self.max_field = max_field
        self.form = Form()
        self.part = _Part()
        self.header_name = b""
        self.header_value = b""
        self.too_large: str | None = None
        self.ended = False
        self.bad: str | None = None

    def on_part_begin(self) -> None:
        self.part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.part.headers[self.header_name.decode("latin-1").lower()] = self.header_value
        self.header_name = b""
        self.header_value = b""

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self.part
        part.size += end - start
        is_file = b"filename=" in part.headers.get("content-disposition", b"")
        limit = self.max_file if is_file else self.max_field
        if part.size > limit:
            # Keep reading (and dropping) so the client gets the 413 rather than a reset.
            if self.too_large is None:
                kind = "file" if is_file else "form field"
                self.too_large = f"An attached {kind} is larger than {limit} bytes"
            return
        if self.too_large is None:
            part.chunks.append(data[start:end])

    def on_part_end(self) -> None:
        if self.too_large is not None or self.bad is not None:
            return
        raw = self.part.headers.get("content-disposition", b"").decode("latin-1")
        kind, options = parse_options_header(raw)
        name = _utf8(options.get(b"name"))
        if kind != b"form-data" or name is None:
            self.bad = "A multipart part has no form-data name"
            return
        data = b"".join(self.part.chunks)
        if b"filename" in options:
            filename = _utf8(options[b"filename"])
            ctype = self.part.headers.get("content-type", b"").decode("latin-1").strip()
            if filename is None:
                self.bad = "An attachment's filename is not valid UTF-8"
                return
            self.form.files.append(
                Upload(name, filename, ctype or "application/octet-stream", data)
            )
            return
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            self.bad = f"The form field {name!r} is not valid UTF-8"
            return
        self.form.fields.setdefault(name, []).append(text)

    def on_end(self) -> None:
        self.ended = True


def _utf8(raw: bytes | None) -> str | None:
    # The options come back as the header's latin-1 bytes, which are the raw UTF-8 bytes a
    # client sent for a non-ASCII filename.
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


async def read_form(req: Request, *, max_file: int, max_total: int = MAX_TOTAL_BYTES) -> Form:
    """Parse the request's multipart body; 413 past ``max_file`` for a file (or the JSON body
    limit for a text field) or ``max_total`` for the whole body, 400 if it is malformed."""
    _, params = parse_options_header(req.header("content-type") or "")
    boundary = params.get(b"boundary")
    if not boundary:
        raise BadRequest("A multipart body needs a boundary")
    length = req.header("content-length")
    if length and length.isdigit() and int(length) > max_total:
        raise PayloadTooLarge(f"The request body is larger than {max_total} bytes")
    collector = _Collector(max_file=max_file, max_field=req.app.settings.max_json_body)
    parser = MultipartParser(
        boundary,
        callbacks={
            "on_part_begin": collector.on_part_begin,
            "on_part_data": collector.on_part_data,
            "on_part_end": collector.on_part_end,
            "on_header_field": collector.on_header_field,
            "on_header_value": collector.on_header_value,
            "on_header_end": collector.on_header_end,
            "on_end": collector.on_end,
        },
    )
    size = 0
    more = True
    malformed: str | None = None
    while more:
        message = await req.receive()
        chunk = message.get("body", b"")
        more = message.get("more_body", False)
        size += len(chunk)
        if size > max_total:
            raise PayloadTooLarge(f"The request body is larger than {max_total} bytes")
        if malformed is None and chunk:
            try:
                parser.write(chunk)
            except MultipartParseError as exc:
                # Drain the rest so the client reads the 400 rather than a reset connection.
                malformed = str(exc) or "The multipart body is malformed"
    if collector.too_large is not None:
        raise PayloadTooLarge(collector.too_large)
    if malformed is not None or not collector.ended:
        raise BadRequest(
            "The multipart body is malformed", details=[malformed] if malformed else []
        )
    if collector.bad is not None:
        raise BadRequest(collector.bad)
    return collector.form


# ``name`` then any number of ``[key]``; an empty or numeric key is an array item.
_FIELD_NAME = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_KEYS = re.compile(r"\[([^\[\]]*)\]")
# Files are ``attachments[]`` (an old Front example numbers them).
FILE_FIELD = re.compile(r"attachments(\[\d*\])?")
_INTEGER = re.compile(r"-?\d{1,18}")


def _is_item(key: str) -> bool:
    return key == "" or key.isdigit()


def form_json(form: Form) -> dict[str, Any]:
    """The JSON object a form's text fields stand for (values still strings)."""
    out: dict[str, Any] = {}
    for name, values in form.fields.items():
        match = _FIELD_NAME.fullmatch(name)
        if match is None:
            raise BadRequest(f"Invalid form field name {name!r}")
        keys = [match.group(1), *_KEYS.findall(match.group(2))]
        is_array = len(keys) > 1 and _is_item(keys[-1])
        if is_array:
            keys.pop()
        if any(_is_item(k) for k in keys[1:]):
            raise BadRequest(f"The form field {name!r} nests an array, which Porch does not take")
        node = out
        for key in keys[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise BadRequest(f"The form field {name!r} conflicts with another field")
        leaf = keys[-1]
        if is_array:
            items = node.setdefault(leaf, [])
            if not isinstance(items, list):
                raise BadRequest(f"The form field {name!r} conflicts with another field")
            items.extend(values)
        elif len(values) > 1 or leaf in node:
            raise BadRequest(f"The form field {name!r} is given more than once")
        else:
            node[leaf] = values[0]
    return out


def _options(schema: dict[str, Any], defs: dict[str, Any]) -> list[dict[str, Any]]:
    """The alternatives a JSON schema allows, with references resolved."""
    found = []
    for option in schema.get("anyOf", [schema]):
        while "$ref" in option:
            option = defs[option["$ref"].rsplit("/", 1)[-1]]
        found.append(option)
    return found


def _typed(value: Any, schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """``value`` with its strings read as the booleans and integers ``schema`` expects there."""
    options = _options(schema, defs)
    types = {o.get("type") for o in options}
    if isinstance(value, str):
        if "boolean" in types and value in ("true", "false"):
            return value == "true"
        if "integer" in types and _INTEGER.fullmatch(value):
            return int(value)
        return value
    if isinstance(value, list):
        items: dict[str, Any] = next(
            (o.get("items", {}) for o in options if o.get("type") == "array"), {}
        )
        return [_typed(v, items, defs) for v in value]
    if isinstance(value, dict):
        props: dict[str, Any] = next(
            (o.get("properties", {}) for o in options if o.get("type") == "object"), {}
        )
        return {k: _typed(v, props.get(k, {}), defs) for k, v in value.items()}
    return value


def is_urlencoded(req: Request) -> bool:
    return (
        (req.header("content-type") or "").lower().startswith("application/x-www-form-urlencoded")
    )


async def read_urlencoded(req: Request) -> Form:
    """A ``application/x-www-form-urlencoded`` body (no files), within the JSON body limit."""
    raw = await req.body()
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw), errors="strict"
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest("The form body is malformed") from exc
    form = Form()
    for name, value in pairs:
        form.fields.setdefault(name, []).append(value)
    return form


async def parse_form(req: Request, model: type[M], *, max_file: int) -> tuple[M, list[Upload]]:
    """The body a form (multipart, or url-encoded without files) stands for, validated by
    ``model`` (a 400 as for JSON), and its files (only ``attachments[]`` fields; any other file
    field is a 400)."""
    if is_multipart(req):
        form = await read_form(req, max_file=max_file)
    else:
        form = await read_urlencoded(req)
    for upload in form.files:
        if FILE_FIELD.fullmatch(upload.name) is None:
            raise BadRequest(f"Unknown file field {upload.name!r}")
    schema = model.model_json_schema()
    data = _typed(form_json(form), schema, schema.get("$defs", {}))
    try:
        return model.model_validate(data), form.files
    except pydantic.ValidationError as exc:
        raise BadRequest("The request body is invalid", details=validation_details(exc)) from exc


async def parse_with_files(req: Request, model: type[M]) -> tuple[M, list[StoredFile]]:
    """The request body as ``model`` (JSON, or a form with files of up to 25 MB each), and the
    files, put in the blob store once the whole form is valid (a later refusal leaves unused
    blobs, which are harmless: blobs are named by their content)."""
    if not is_multipart(req) and not is_urlencoded(req):
        return await req.parse(model), []
    body, uploads = await parse_form(req, model, max_file=attachments.MAX_FILE_BYTES)
    files = [attachments.NewFile(u.filename, u.content_type, u.data) for u in uploads]
    return body, await attachments.store_files(req.app.blobs, files)
