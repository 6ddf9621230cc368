"""A real server (uvicorn in a subprocess) and a throwaway PostgreSQL cluster, for the tests that
need real sockets, a real pool and a database that can be stopped."""

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
SERVER_PORTS = range(8400, 8500)
CLUSTER_PORTS = range(55400, 55500)


def free_port(ports):
    for port in ports:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports}")


def database_url(settings_dict, name=None):
    db = settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{name or db['NAME']}"


@contextlib.contextmanager
def running_server(database_url, **env):
    """uvicorn serving the project on a free port of 8400-8499; yields (base URL, log path; the
    log is deleted on exit). `env` adds settings (e.g. DB_POOL_MAX_SIZE="2")."""
    port = free_port(SERVER_PORTS)
    log_path = Path(tempfile.mkstemp(prefix="todos-server-", suffix=".log")[1])
    command = [
        sys.executable,
        *("-m", "uvicorn", "todoproject.asgi:application"),
        *("--host", "127.0.0.1", "--port", str(port)),
        *("--lifespan", "off", "--no-access-log", "--loop", "uvloop", "--http", "httptools"),
    ]
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CACHE_KEY_PREFIX": f"live-{uuid.uuid4().hex}",
        "LOG_LEVEL": "WARNING",
        **env,
    }
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, server, log_path)
        yield base_url, log_path
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log_path.unlink(missing_ok=True)


class Served:
    """`manage.py serve` (the production command: its workers, its metrics directory) in a
    process group of its own; `tmp` is its TMPDIR, where it makes that directory."""

    def __init__(self, database_url, **env):
        self.port = free_port(SERVER_PORTS)
        self.url = f"http://127.0.0.1:{self.port}"
        self.tmp = Path(tempfile.mkdtemp(prefix="todos-serve-"))
        self.log_path = self.tmp.with_suffix(".log")
        environment = {
            **os.environ,
            "DATABASE_URL": database_url,
            "CACHE_KEY_PREFIX": f"live-{uuid.uuid4().hex}",
            "LOG_LEVEL": "WARNING",
            "TMPDIR": str(self.tmp),
            **env,
        }
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "serve", "--port", str(self.port)],
                cwd=ROOT,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            _wait_until_up(self.url, self.process, self.log_path, timeout=90)
        except BaseException:
            self.stop()
            raise

    def log(self):
        return self.log_path.read_text(errors="replace")

    def stop(self):
        """SIGTERM to the serve command, as a process manager stops it; returns its status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode

    def remove(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.log_path.unlink(missing_ok=True)


def _wait_until_up(base_url, server, log_path, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited: {log_path.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server did not answer /healthz: {log_path.read_text()[-3000:]}")


def server_errors(log_path):
    """Lines of the server's log that tell of a 500 or an unhandled exception (in JSON lines
    the traceback is the `exc_info` field)."""
    return [
        line
        for line in log_path.read_text(errors="replace").splitlines()
        if "Internal Server Error" in line or line.startswith("Traceback") or '"exc_info": ' in line
    ]


def postgres_bin(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} not found under /usr/lib/postgresql/*/bin")
    return found[-1]


class Cluster:
    """A PostgreSQL cluster of our own in a temporary directory, on a port of 55400-55499,
    never the machine's shared server. initdb and pg_ctl refuse to run as root, so as root they
    run as the `postgres` user."""

    def __init__(self):
        self.port = free_port(CLUSTER_PORTS)
        self.dir = Path(tempfile.mkdtemp(prefix="todos-cluster-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.user = "postgres"
        if os.geteuid() == 0:
            postgres = pwd.getpwnam("postgres")
            os.chown(self.dir, postgres.pw_uid, postgres.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        else:
            self._as = []
        self._run("initdb", "-D", self.data, "-U", self.user, "-A", "trust", "--no-sync")

    @property
    def url(self):
        return f"postgres://{self.user}@127.0.0.1:{self.port}/todos"

    def start(self):
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on"
        self._run(
            "pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "-t", "30", "start"
        )

    def stop(self, mode="immediate"):
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "30", "stop")

    def destroy(self):
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _run(self, name, *args):
        subprocess.run(
            [*self._as, postgres_bin(name), *map(str, args)],
            check=True,
            capture_output=True,
            timeout=60,
            cwd=self.dir,
        )


def manage(*args, database_url, **env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
