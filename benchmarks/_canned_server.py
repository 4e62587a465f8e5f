"""A loopback server of canned bytes for the benchmarks: the server must not be the bottleneck.

``serve(bodies)`` starts it in its own process and yields its base URL. It answers every
request with the canned body of the request's path (query ignored), ``{"errcode":404}``
otherwise. With nginx on the PATH it runs nginx (``return 200`` from files in a temporary
directory); without it, a small asyncio server that reads the request head and body and
writes the prepared answer, never parsing JSON, keep-alive on.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

__all__ = ["free_port", "serve"]

_MISSING = b'{"errcode":404,"errmsg":"no canned answer"}'


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answer(body: bytes) -> bytes:
    head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    return f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body


def _run_asyncio(port: int, bodies: Mapping[str, bytes]) -> None:
    answers = {path: _answer(body) for path, body in bodies.items()}
    missing = _answer(_MISSING)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, _, rest = head.partition(b"\r\n")
                target = request_line.split(b" ", 2)[1]
                path = target.split(b"?", 1)[0].decode()
                length = 0
                for line in rest.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if length:
                    await reader.readexactly(length)
                writer.write(answers.get(path, missing))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def _nginx_config(root: Path, port: int, bodies: Mapping[str, bytes]) -> Path:
    locations = []
    for index, (path, body) in enumerate(bodies.items()):
        (root / f"{index}.json").write_bytes(body)
        locations.append(
            f"location = {path} {{ default_type application/json; alias {root}/{index}.json; }}"
        )
    config = root / "nginx.conf"
    config.write_text(
        f"""daemon off; worker_processes 1; pid {root}/nginx.pid; error_log {root}/error.log;
events {{ worker_connections 4096; }}
http {{ access_log off; keepalive_requests 1000000;
  client_body_temp_path {root}; proxy_temp_path {root}; fastcgi_temp_path {root};
  uwsgi_temp_path {root}; scgi_temp_path {root};
  server {{ listen 127.0.0.1:{port}; {" ".join(locations)}
    location / {{ default_type application/json; return 200 '{_MISSING.decode()}'; }}
    error_page 405 =200 $uri; }} }}
"""
    )
    return config


def _wait_listening(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"the canned server did not listen on port {port}")


@contextlib.contextmanager
def serve(bodies: Mapping[str, bytes]) -> Iterator[str]:
    """Serve ``bodies`` (path -> bytes) on loopback in another process; yield the base URL."""
    port = free_port()
    nginx = shutil.which("nginx")
    if nginx is not None:
        with tempfile.TemporaryDirectory() as tmp:
            config = _nginx_config(Path(tmp), port, bodies)
            process = subprocess.Popen([nginx, "-c", str(config), "-p", tmp])
            try:
                _wait_listening(port)
                yield f"http://127.0.0.1:{port}"
            finally:
                process.terminate()
                process.wait()
        return
    child = multiprocessing.get_context("spawn").Process(
        target=_run_asyncio, args=(port, dict(bodies)), daemon=True
    )
    child.start()
    try:
        _wait_listening(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        child.terminate()
        child.join()
