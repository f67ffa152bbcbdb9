"""A TCP proxy that adds a fixed one-way delay in front of a local AWS emulator: a model of a real
network round trip for scripts/bench-deploy (loopback answers in microseconds; AWS is tens of
milliseconds away).

    python scripts/delay_proxy.py UPSTREAM_PORT DELAY_MS REQUEST_LOG

Prints ``PORT=<port>`` once listening on 127.0.0.1. Every byte from the client reaches the
upstream DELAY_MS later (a delay line, not a per-chunk sleep: a request sent in several writes
still costs one delay), so each request/response round trip costs DELAY_MS more, as on a network
whose latency is DELAY_MS. Answers flow back at once. Each request's first line is appended to
REQUEST_LOG as ``MS METHOD /path ACTION`` (milliseconds since the epoch when it reaches the
upstream, and the form body's ``Action`` when the first chunk holds one), so a benchmark can count
the round trips of a run and draw their timeline. Exits when its stdin closes.
"""

import asyncio
import os
import re
import sys
import threading
import time

METHODS = (b"GET ", b"PUT ", b"POST ", b"HEAD ", b"DELETE ", b"PATCH ")
ACTION = re.compile(rb"(?:^|&|\r\n\r\n)Action=([A-Za-z]+)")


async def main() -> None:
    upstream_port, delay_ms, log_path = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    delay = delay_ms / 1000.0
    loop = asyncio.get_running_loop()
    log = open(log_path, "a", buffering=1)

    async def delayed(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue = asyncio.Queue()

        async def receive() -> None:
            while True:
                data = await reader.read(65536)
                await queue.put((loop.time() + delay, data))
                if not data:
                    return

        async def send() -> None:
            while True:
                due, data = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    writer.close()
                    return
                if data.startswith(METHODS):
                    line = data.split(b"\r\n", 1)[0].rsplit(b" ", 1)[0].decode(errors="replace")
                    action = ACTION.search(data)
                    name = action.group(1).decode() if action else ""
                    log.write(f"{time.time() * 1000:.1f} {line} {name}".rstrip() + "\n")
                writer.write(data)
                await writer.drain()

        await asyncio.gather(receive(), send(), return_exceptions=True)

    async def direct(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", upstream_port)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(delayed(client_r, up_w), direct(up_r, client_w), return_exceptions=True)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(f"PORT={server.sockets[0].getsockname()[1]}", flush=True)

    def exit_on_stdin_eof() -> None:
        while sys.stdin.buffer.read(4096):
            pass
        os._exit(0)

    threading.Thread(target=exit_on_stdin_eof, daemon=True).start()
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
