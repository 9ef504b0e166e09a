"""Calls between our processes over real sockets: what kind of failure each one is decides
the problem the caller gets (503 down, 502 broken, 504 slow), so it must be told right."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest

from shared.runtime import free_port
from shared.upstream import internal_client


@contextlib.asynccontextmanager
async def _server(answer):
    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


async def test_an_answer_comes_back_with_its_status_headers_and_body():
    async def answer(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 201 Created\r\nx-seen: yes\r\ncontent-length: 2\r\n\r\nok")
        await writer.drain()

    async with _server(answer) as url, internal_client(httpx.Timeout(5), 4) as http:
        response = await http.post(url + "/things", json={"a": 1})
    assert (response.status_code, response.headers["x-seen"], response.text) == (201, "yes", "ok")


async def test_a_refused_connection_is_a_connect_error_not_a_timeout():
    async with internal_client(httpx.Timeout(5), 4) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{free_port()}/x")


async def test_a_connection_closed_without_an_answer_is_a_broken_call():
    async def answer(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    async with _server(answer) as url, internal_client(httpx.Timeout(5), 4) as http:
        with pytest.raises(httpx.TransportError) as raised:
            await http.get(url + "/x")
    assert not isinstance(raised.value, httpx.TimeoutException | httpx.ConnectError)


async def test_a_slow_answer_is_a_timeout():
    async def answer(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(5)

    async with _server(answer) as url, internal_client(httpx.Timeout(0.3), 4) as http:
        with pytest.raises(httpx.TimeoutException):
            await http.get(url + "/x")
