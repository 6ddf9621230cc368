"""A real uvicorn server in a thread of the test process, serving the project's ASGI application
(fast lane included) on the test database, and a client for it with the APIClient calls the
tests use."""

import asyncio
import json
import socket
import threading
import time

import requests
import uvicorn

from todos import api_pool, events


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(app, lifespan="off", log_level="warning", loop="asyncio")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.loop = None

    def _serve(self):
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.serve(sockets=[self.sock]))

    def start(self):
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the live server did not start")
            time.sleep(0.01)

    def stop(self):
        self.close_lane_pool()
        asyncio.run_coroutine_threadsafe(events.close(), self.loop).result(timeout=10)
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def close_lane_pool(self):
        """Close the fast lane's pool, so that the next request opens one from the settings."""
        asyncio.run_coroutine_threadsafe(api_pool.close(), self.loop).result(timeout=10)


class LiveResponse:
    def __init__(self, response):
        self.raw = response
        self.status_code = response.status_code
        self.content = response.content

    def json(self):
        return self.raw.json()

    def __getitem__(self, header):
        return self.raw.headers[header]

    def has_header(self, header):
        return header in self.raw.headers


class LiveAPIClient:
    """What the tests call on DRF's APIClient, sent over HTTP to the live server."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.session = requests.Session()

    def credentials(self, HTTP_AUTHORIZATION=None):
        self.session.headers.pop("Authorization", None)
        if HTTP_AUTHORIZATION:
            self.session.headers["Authorization"] = HTTP_AUTHORIZATION

    def generic(self, method, path, data=b"", content_type="application/octet-stream", **extra):
        body = data.encode() if isinstance(data, str) else data
        headers = {"Content-Type": content_type, **_headers(extra)}
        return self._send(method, path, data=body, headers=headers)

    def get(self, path, data=None, **extra):
        return self._send("GET", path, params=data, headers=_headers(extra))

    def post(self, path, data=None, format=None, content_type=None, **extra):
        return self._write("POST", path, data, format, content_type, extra)

    def put(self, path, data=None, format=None, content_type=None, **extra):
        return self._write("PUT", path, data, format, content_type, extra)

    def patch(self, path, data=None, format=None, content_type=None, **extra):
        return self._write("PATCH", path, data, format, content_type, extra)

    def delete(self, path, data=None, format=None, content_type=None, **extra):
        return self._write("DELETE", path, data, format, content_type, extra)

    def _write(self, method, path, data, format, content_type, extra):
        if data is None:
            return self._send(method, path, headers=_headers(extra))
        if format == "json":
            data, content_type = json.dumps(data), "application/json"
        return self.generic(method, path, data, content_type or "application/octet-stream", **extra)

    def _send(self, method, path, **kwargs):
        url = path if path.startswith("http") else self.base_url + path
        # Redirects are answers to look at, as with Django's test client.
        response = self.session.request(method, url, timeout=30, allow_redirects=False, **kwargs)
        return LiveResponse(response)


def _headers(extra):
    """Django test client style keyword arguments (HTTP_IF_MATCH=...) as HTTP headers."""
    return {
        name[5:].replace("_", "-").title(): value
        for name, value in extra.items()
        if name.startswith("HTTP_")
    }
