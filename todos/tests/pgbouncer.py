"""A throwaway local PgBouncer in transaction mode, in a temp dir of its own, for the test suite
(`pytest --pgbouncer`, conftest.py) and for `python -m bench.scaling`. Debian's `pgbouncer`
package (bin/install-pgbouncer)."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

# The ports this project's tests and benchmarks use for it unless PGBOUNCER_PORT says otherwise.
DEFAULT_PORTS = range(6432, 6440)

INI = """\
[databases]
* = host={server_host} port={server_port}{server_password}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {dir}/userlist.txt
admin_users = {user}
pool_mode = transaction
max_client_conn = {max_client_conn}
default_pool_size = {pool_size}
server_reset_query =
"""


def free_port(candidates=DEFAULT_PORTS):
    for port in candidates:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError(f"no free port for PgBouncer in {candidates}")


def pgbouncer_binary():
    found = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
    if not found:
        raise RuntimeError("pgbouncer is not installed: run bin/install-pgbouncer")
    return found


class LocalPgBouncer:
    def __init__(
        self,
        *,
        port=None,
        server_host="127.0.0.1",
        server_port=5432,
        user="postgres",
        password="",
        pool_size=20,
        max_client_conn=200,
    ):
        self.port = port or int(os.environ.get("PGBOUNCER_PORT") or free_port())
        self.user = user
        self.settings = dict(
            server_host=server_host or "127.0.0.1",
            server_port=server_port or 5432,
            server_password=f" password={password}" if password else "",
            port=self.port,
            user=user,
            pool_size=pool_size,
            max_client_conn=max_client_conn,
        )
        self.process = None

    def start(self, timeout=10):
        self.dir = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
        self.dir.chmod(0o755)  # readable by the user it drops to when started as root
        (self.dir / "pgbouncer.ini").write_text(INI.format(dir=self.dir, **self.settings))
        (self.dir / "userlist.txt").write_text(f'"{self.user}" ""\n')
        command = [pgbouncer_binary()]
        if os.geteuid() == 0:  # PgBouncer refuses to run as root
            command += ["-u", _unprivileged_user()]
        self.log = open(self.dir / "pgbouncer.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [*command, str(self.dir / "pgbouncer.ini")], stdout=self.log, stderr=self.log
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.admin("SHOW VERSION")
                return self
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"PgBouncer did not start: {self.read_log()}") from None
                time.sleep(0.1)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def read_log(self):
        return (self.dir / "pgbouncer.log").read_text(errors="replace")[-2000:]

    def admin(self, command):
        """Run a command on PgBouncer's admin console (simple query protocol only)."""
        with psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            dbname="pgbouncer",
            user=self.user,
            autocommit=True,
            connect_timeout=2,
            cursor_factory=psycopg.ClientCursor,
        ) as conn:
            cursor = conn.execute(command)
            if cursor.description is None:
                return []
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _unprivileged_user():
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name).pw_name
        except KeyError:
            continue
    raise RuntimeError("no unprivileged user to run PgBouncer as")
