"""uvicorn with a drain before its graceful shutdown, for nodes behind a load balancer that
checks /readyz (docs/scaling.md). `manage.py serve` runs it.

On SIGTERM a worker first drains: /readyz answers 503 at once (todos.health), while the worker
still serves whatever reaches it, for `drain_seconds`: long enough for the load balancer's checks
to take the node out, so that no request is sent to a socket that is closing. Event streams end
then (they wait on todos.health.draining). Then uvicorn's own graceful shutdown: it stops
accepting connections, closes idle keep-alive ones and lets the requests in flight finish, for
what is left of `graceful_timeout`; after that it cancels them. A second SIGTERM, or SIGINT,
goes straight to the shutdown; a second SIGTERM changes nothing.
"""

import argparse
import asyncio
import signal
import time

import uvicorn
from uvicorn.supervisors import multiprocess

from todos import health

# Left of GRACEFUL_TIMEOUT after the drain and the in-flight wait: the process's own exit.
EXIT_MARGIN_SECONDS = 2.0


class DrainingServer(uvicorn.Server):
    def __init__(self, config):
        super().__init__(config)
        self.drain_seconds = getattr(config, "drain_seconds", 0.0)
        self._drain_ends = None
        self._loop = None

    async def on_tick(self, counter):
        self._loop = self._loop or asyncio.get_running_loop()
        if self._drain_ends is not None and time.monotonic() >= self._drain_ends:
            self.should_exit = True
        return await super().on_tick(counter)

    def handle_exit(self, sig, frame):
        # A signal handler: it runs on the event loop's thread, between two of its steps.
        if sig == signal.SIGTERM and self._loop is not None and not self.should_exit:
            if self._drain_ends is None:
                self._drain_ends = time.monotonic() + self.drain_seconds
                health.start_draining(self._loop)
            return  # a SIGTERM while draining (the supervisor's, after serve's) changes nothing
        super().handle_exit(sig, frame)

    async def shutdown(self, sockets=None):
        health.start_draining(asyncio.get_running_loop())  # SIGINT, or a signal before ready
        await super().shutdown(sockets)


class DrainingProcess(multiprocess.Process):
    """uvicorn's worker process, running a DrainingServer."""

    @property
    def server(self):
        if self._server is None:
            self._server = DrainingServer(config=self.config)
        return self._server


class DrainingSupervisor(multiprocess.Multiprocess):
    """uvicorn's supervisor, letting go of the listening socket once stopping: its copy would
    keep the port listening after the workers closed theirs, so that new connections would wait
    in the kernel's queue for no one instead of being refused."""

    def handle_term(self):
        self._let_go_of_sockets()
        super().handle_term()

    def handle_int(self):
        self._let_go_of_sockets()
        super().handle_int()

    def _let_go_of_sockets(self):
        for sock in self.sockets:
            sock.close()


def config(*, host, port, workers, graceful_timeout, drain_seconds):
    settings = uvicorn.Config(
        "todoproject.asgi:application",
        host=host,
        port=port,
        workers=workers,
        lifespan="off",
        loop="uvloop",
        http="httptools",
        access_log=False,
        timeout_graceful_shutdown=max(1, graceful_timeout - drain_seconds - EXIT_MARGIN_SECONDS),
    )
    settings.drain_seconds = drain_seconds  # read by each worker's DrainingServer
    return settings


def run(settings):
    if settings.workers > 1:
        # uvicorn's supervisor sends SIGTERM to every worker and waits for them all; its workers
        # are made by this module-level name.
        multiprocess.Process = DrainingProcess
        DrainingSupervisor(settings, sockets=[settings.bind_socket()]).run()
    else:
        DrainingServer(settings).run()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--graceful-timeout", type=float, default=30.0)
    parser.add_argument("--drain-seconds", type=float, default=5.0)
    arguments = parser.parse_args()
    run(
        config(
            host=arguments.host,
            port=arguments.port,
            workers=arguments.workers,
            graceful_timeout=arguments.graceful_timeout,
            drain_seconds=arguments.drain_seconds,
        )
    )


if __name__ == "__main__":
    main()
