"""A minimal HTTP/1.1 keep-alive client for load generation (not a test, not the product).

The benchmarks share this machine's two cores with the server they measure. httpx spends about
1.5 ms of CPU per `$analyze` request on its own side, which the server then cannot use; this
client sends pre-encoded requests over one persistent connection per simulated client and reads
`Content-Length` responses, at a small fraction of that, so throughput figures are the server's.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit


class LeanConnection:
    """One keep-alive connection; requests on it are sequential, like one client's."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, port: int
    ) -> None:
        self._reader, self._writer = reader, writer
        self._host, self._address = f"{host}:{port}", (host, port)

    @classmethod
    async def open(cls, base_url: str) -> LeanConnection:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError("LeanConnection speaks plain http:// only")
        port = parts.port or 80
        reader, writer = await asyncio.open_connection(parts.hostname, port)
        return cls(reader, writer, parts.hostname, port)

    async def _reconnect(self) -> None:
        self._writer.close()
        self._reader, self._writer = await asyncio.open_connection(*self._address)

    def request_bytes(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
        """Encode a request once; send it as often as needed with `send`."""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self._host}", f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """(status, body) of one pre-encoded request.

        A connection left idle past the server's keep-alive timeout is closed by the server;
        like any HTTP client, reconnect once and resend when no response byte has arrived.
        """
        self._writer.write(request)
        status_line = await self._read_status_line()
        if not status_line:
            await self._reconnect()
            self._writer.write(request)
            status_line = await self._read_status_line()
            if not status_line:
                raise ConnectionError("server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        length = None
        while True:
            line = await self._reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        if length is None:
            raise ValueError("response without Content-Length")
        return status, await self._reader.readexactly(length)

    async def _read_status_line(self) -> bytes:
        try:
            return await self._reader.readline()
        except ConnectionResetError:
            return b""

    async def close(self) -> None:
        self._writer.close()
        await self._writer.wait_closed()
