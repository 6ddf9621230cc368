"""Many idle GET /api/events streams from one process (bench/events.py runs several): opens one
stream per token given, at most --opening at a time, says `established N failed M` on stdout
when all are open, then reads them until stdin closes, and writes to --out, as JSON, when each
stream saw each todo event (time.monotonic(), which all processes of this machine share)."""

import argparse
import asyncio
import json
import re
import sys
import time

import uvloop

RETRY = re.compile(rb"retry: (\d+)")
ATTEMPTS = 5
TODO_EVENT = re.compile(rb'event: todo\n(?:id: [^\n]*\n)?data: \{"id":(\d+),')


class Streams:
    def __init__(self):
        self.established = 0
        self.failed = []
        self.ended = 0
        self.retried = 0
        self.seen = []  # (todo id, monotonic time, stream number)

    async def open(self, number, host, port, token, opening):
        """Open the stream; when the server says `retry:` and ends it, come back after the
        time it names, as an EventSource does (counted in `retried`)."""
        for _attempt in range(ATTEMPTS):
            async with opening:
                try:
                    opened = await self.connect(host, port, token)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    self.failed.append(type(exc).__name__)
                    return
            if isinstance(opened, int):  # a status other than 200
                self.failed.append(opened)
                return
            reader, writer, buffer = opened
            if b": connected" in buffer:
                self.established += 1
                await self.read(number, reader, writer, buffer)
                return
            self.retried += 1
            hint = RETRY.search(buffer)
            await asyncio.sleep(int(hint[1]) / 1000 if hint else 3)
        self.failed.append("retried too often")

    async def connect(self, host, port, token):
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(
            f"GET /api/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Token {token}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if status != 200:
            writer.close()
            return status
        buffer = b""
        while b": connected" not in buffer and b"retry:" not in buffer:
            chunk = await reader.read(4096)
            if not chunk:
                break
            buffer += chunk
        if b": connected" not in buffer:
            writer.close()
        return reader, writer, buffer

    async def read(self, number, reader, writer, buffer):
        tail = buffer[-200:]
        try:
            while True:
                chunk = await reader.read(65536)
                now = time.monotonic()
                if not chunk:
                    break
                text = tail + chunk
                for match in TODO_EVENT.finditer(text):
                    if match.end() > len(tail):  # not a match seen in the last read already
                        self.seen.append((int(match[1]), now, number))
                tail = text[-200:]
        except OSError:
            pass
        self.ended += 1
        writer.close()


async def main(args):
    tokens = json.loads(sys.stdin.readline())
    streams = Streams()
    opening = asyncio.Semaphore(args.opening)
    tasks = [
        asyncio.ensure_future(streams.open(args.first + n, args.host, args.port, token, opening))
        for n, token in enumerate(tokens)
    ]
    while streams.established + len(streams.failed) < len(tokens):
        await asyncio.sleep(0.05)
    failures = {str(kind): streams.failed.count(kind) for kind in set(streams.failed)}
    failures["retried"] = streams.retried
    print(f"established {streams.established} failed {json.dumps(failures)}", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the bench closes our stdin
    with open(args.out, "w") as out:
        json.dump({"seen": streams.seen, "ended": streams.ended}, out)
    for task in tasks:
        task.cancel()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--first", type=int, default=0, help="the first stream's number")
    parser.add_argument("--opening", type=int, default=25, help="streams opening at once")
    parser.add_argument("--out", required=True)
    uvloop.run(main(parser.parse_args()))
