"""Forms that upload a file (``enctype="multipart/form-data"``): read with a size cap, the
whole request refused with 413 above it, before the CSRF check reads a field.

A file field's text is the field's value (files here are small text files: a JSONL
sample); ``<name>.filename`` is what the browser called it, and ``<name>.error`` says why
its bytes could not be read as UTF-8 text. A url-encoded post is read as any form."""

from __future__ import annotations

from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP

from starlette.requests import Request

from prism_workbench.access import Denied, FormReader, read_form
from prism_workbench.numbers import whole_number

MEGABYTE = 1024 * 1024


def multipart_reader(max_bytes: int) -> FormReader:
    """A form reader for :func:`~prism_workbench.access.action_session` that takes
    multipart forms up to ``max_bytes`` (the whole body)."""

    async def read(request: Request) -> dict[str, str]:
        content_type = request.headers.get("content-type", "")
        if not content_type.lower().startswith("multipart/form-data"):
            return await read_form(request)
        too_big = Denied(
            413,
            f"the upload is larger than {max_bytes / MEGABYTE:g} MB: send a smaller sample "
            "file (prism samples export --limit N)",
        )
        declared = whole_number(request.headers.get("content-length", ""))
        if declared is not None and declared > max_bytes:
            raise too_big
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_bytes:
                raise too_big
        return parse_multipart(content_type, bytes(body))

    return read


def parse_multipart(content_type: str, body: bytes) -> dict[str, str]:
    """A multipart/form-data body's fields (the first of each name)."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(EmailMessage, policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise Denied(400, "the form is not a readable multipart form: reload and try again")
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or name in fields:
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            fields[f"{name}.filename"] = filename
        try:
            fields[name] = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            fields[name] = ""
            fields[f"{name}.error"] = f"not UTF-8 text (byte {exc.start})"
    return fields
