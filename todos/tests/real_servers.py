"""A real server (uvicorn in a subprocess) and a throwaway PostgreSQL cluster, for the tests that
need real sockets, a real pool and a database that can be stopped."""

import contextlib
import glob
import os
import pwd
import random
import shlex
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
    with _bound_socket(ports) as sock:
        return sock.getsockname()[1]


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
        "SERVING_WORKER": "1",  # as `manage.py serve` runs its workers
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

    def __init__(self, database_url, port=None, **env):
        self.port = port or free_port(SERVER_PORTS)
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
            # The first start of a checkout collects the static files: a minute on a busy machine.
            _wait_until_up(self.url, self.process, self.log_path, timeout=240)
        except BaseException:
            self.stop()
            raise

    def log(self):
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout=30):
        """SIGTERM to the serve command, as a process manager stops it; returns its status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
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


class ClusterError(RuntimeError):
    pass


class Cluster:
    """A PostgreSQL cluster of our own in a temporary directory, on a port of 55400-55499,
    never the machine's shared server. initdb and pg_ctl refuse to run as root, so as root they
    run as the `postgres` user.

    While the cluster is not running, its port stays bound by a placeholder socket, so that
    another test run on this machine cannot take it during initdb or an outage."""

    def __init__(self, timeout=120, *, primary=None):
        """A new cluster (initdb), or with `primary` (running) a streaming standby of it, made
        with `pg_basebackup -R` (it writes the standby's primary_conninfo)."""
        self.timeout = timeout  # for each start and stop: a busy machine is slow, not broken
        self._placeholder = _bound_socket(CLUSTER_PORTS)
        self.port = self._placeholder.getsockname()[1]
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
        if primary is None:
            self._run("initdb", "-D", self.data, "-U", self.user, "-A", "trust", "--no-sync")
        else:
            source = ("-h", "127.0.0.1", "-p", primary.port, "-U", primary.user)
            self._run("pg_basebackup", *source, "-D", self.data, "-R", "-X", "stream", "--no-sync")

    @property
    def url(self):
        return f"postgres://{self.user}@127.0.0.1:{self.port}/todos"

    def start(self):
        """Start the server and return once it accepts connections on its port."""
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on"
        self._placeholder.close()
        wait = ("-w", "-t", self.timeout)
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-o", options, *wait, "start")
        deadline = time.monotonic() + self.timeout
        while not self.accepts_connections():
            if time.monotonic() > deadline:
                raise ClusterError(f"pg_ctl started it, but port {self.port} does not answer")
            time.sleep(0.1)

    def stop(self, mode="immediate"):
        """Stop the server (immediate: like a crash) and return once it has exited."""
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", self.timeout, "stop")
        self._placeholder = _bound_socket([self.port], reuse=True)

    def accepts_connections(self):
        ready = ["-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-t", "2"]
        return subprocess.run([postgres_bin("pg_isready"), *ready], timeout=30).returncode == 0

    def destroy(self):
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(ClusterError):
                self.stop()
        self._placeholder.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _run(self, name, *args):
        command = [*self._as, postgres_bin(name), *map(str, args)]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=self.timeout + 30, cwd=self.dir
        )
        if done.returncode != 0:
            raise ClusterError(
                f"{shlex.join(command)} exited with {done.returncode}\n"
                f"stdout: {done.stdout.strip()}\nstderr: {done.stderr.strip()}\n"
                f"the end of {self.log}:\n{self._log_tail()}"
            )

    def _log_tail(self, lines=20):
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log yet)"


def _bound_socket(ports, *, reuse=False):
    """A socket bound to a free port of `ports` (tried in random order: other test runs on this
    machine pick from the same range), not listening, so connecting to it is refused. `reuse`
    takes a port that a stopped server's closed connections still linger on (TIME_WAIT); a
    socket bound without it fails on any port someone else holds."""
    for port in random.sample(list(ports), len(ports)):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, int(reuse))
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.close()
            continue
        return sock
    raise RuntimeError(f"no free port in {ports}")


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
