"""What the benchmark commands share: scratch databases, servers that start and stop, Locust runs
and their statistics, and the machine they ran on."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
LOCUST = ROOT / ".venv" / "bin" / "locust"
BENCH_PYTHON = ROOT / "bench" / ".venv" / "bin" / "python"
DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/todos"


def database_url(name):
    """DATABASE_URL's server with another database name."""
    parts = urlsplit(os.environ.get("DATABASE_URL", DEFAULT_SERVER_URL))
    return urlunsplit(parts._replace(path=f"/{name}"))


def connect(url, **kwargs):
    return psycopg.connect(url, autocommit=True, **kwargs)


def run_context(args):
    """What a report says of the run: the machine, how busy it was before, the arguments."""
    return {
        "machine": machine(),
        "load_before": load_average(),
        "busy_before": busy_processes(),
        "args": vars(args),
    }


def ensure_database(url, *, fresh=False):
    name = urlsplit(url).path.lstrip("/")
    with connect(database_url("postgres")) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def prepare(args, out_dir, *, users, bigtable_rows):
    """Create and migrate the scratch database and seed it; returns (DATABASE_URL, tokens file)."""
    db_url = database_url(args.database)
    ensure_database(db_url, fresh=args.fresh)
    env = service_env(db_url)
    manage("migrate", "--verbosity", "0", env=env)
    tokens = out_dir / "tokens.json"
    manage(
        "seed_loadtest",
        "--users",
        users,
        "--bigtable-rows",
        bigtable_rows,
        "--tokens-file",
        tokens,
        env=env,
    )
    return db_url, tokens


def manage(*args, env):
    subprocess.run([PYTHON, "manage.py", *map(str, args)], cwd=ROOT, env=env, check=True)


def service_env(db_url, **extra):
    env = {**os.environ, "DATABASE_URL": db_url, "PYTHONUNBUFFERED": "1"}
    env.update({name: str(value) for name, value in extra.items() if value is not None})
    return env


@contextmanager
def running(command, *, env, port, log_path, timeout=120, cwd=ROOT):
    """Start a server in its own process group, wait until it answers HTTP, stop it afterwards."""
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            list(map(str, command)),
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_up(process, f"http://127.0.0.1:{port}/api/todo", log_path, timeout)
        yield process
    finally:
        _stop(process)


def service_command(port, server="uvicorn"):
    return [PYTHON, "manage.py", "serve", "--port", port, "--server", server]


def reference_command(port):
    """The seed's BEFORE design in FastAPI, as the seed ran it: uvicorn with 2 workers."""
    return [
        BENCH_PYTHON,
        "-m",
        "uvicorn",
        "bench.seed_before.app:app",
        "--host",
        "127.0.0.1",
        "--port",
        port,
        "--workers",
        "2",
        "--no-access-log",
    ]


def _wait_until_up(process, url, log_path, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited ({process.returncode}):\n{_tail(log_path)}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer (401, 404) means it is up
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server did not answer within {timeout} s:\n{_tail(log_path)}")


def _stop(process):
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _tail(path, lines=20):
    return "\n".join(Path(path).read_text().splitlines()[-lines:])


def first_line(path, starting):
    for line in Path(path).read_text().splitlines():
        if line.startswith(starting):
            return line
    return ""


def run_locust(scenario, *, host, out_dir, label, tokens_file, users=1, duration=20):
    """One headless Locust run; returns its outcome (the locustfile's summary) and statistics."""
    prefix = out_dir / label
    command = [
        LOCUST,
        "-f",
        ROOT / "locustfile.py",
        "--headless",
        "--only-summary",
        "--scenario",
        scenario,
        "-u",
        users,
        "-r",
        users,
        "-t",
        f"{duration}s",
        "--stop-timeout",
        "10",
        "-H",
        host,
        "--tokens-file",
        tokens_file,
        "--csv",
        prefix,
        "--html",
        f"{prefix}.html",
        "--summary-file",
        f"{prefix}.json",
    ]
    load = load_average()
    with open(f"{prefix}.log", "w") as log:
        result = subprocess.run(
            list(map(str, command)), cwd=out_dir, stdout=log, stderr=subprocess.STDOUT
        )
    summary_path = Path(f"{prefix}.json")
    outcome = json.loads(summary_path.read_text()) if summary_path.exists() else {"stats": {}}
    outcome.update(
        label=label,
        scenario=scenario,
        users=users,
        exit_code=result.returncode,
        load_before=load,
    )
    summary_path.write_text(json.dumps(outcome, indent=1))
    print(f"  {label}: {one_line(outcome)}", flush=True)
    return outcome


def total(outcome):
    return outcome.get("stats", {}).get("Aggregated", {})


def one_line(outcome):
    agg = total(outcome)
    if not agg:
        return f"no statistics (exit code {outcome.get('exit_code')})"
    return (
        f"{agg['requests']} requests, {agg['failures']} failures, {agg['rps']:.1f} req/s, "
        f"p50 {agg['p50']:g} / p95 {agg['p95']:g} / p99 {agg['p99']:g} ms"
        + (f", {outcome['rows_per_s']:.0f} rows/s" if "rows_per_s" in outcome else "")
        + (f", wall {outcome['burst_wall_time_s']} s" if "burst_wall_time_s" in outcome else "")
        + ("" if outcome.get("exit_code") == 0 else f" [exit code {outcome.get('exit_code')}]")
    )


def load_average():
    return [round(x, 2) for x in os.getloadavg()]


def busy_processes(limit=5):
    """The processes using most CPU right now (top's second sample): were others busy?"""
    result = subprocess.run(
        ["top", "-b", "-c", "-n", "2", "-d", "1", "-w", "160"], capture_output=True, text=True
    )
    samples = result.stdout.split("PID USER")
    busy = []
    for line in samples[-1].splitlines()[1:] if len(samples) > 2 else []:
        fields = line.split(None, 11)
        if len(fields) == 12 and float(fields[8]) >= 5:
            busy.append(f"{fields[8]}% {fields[11]}")
    return busy[:limit]


def machine():
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    with connect(database_url("postgres")) as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]
        max_connections = conn.execute("SHOW max_connections").fetchone()[0]
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "python": sys.version.split()[0],
        "postgres": postgres,
        "max_connections": int(max_connections),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def _git(*args):
    result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    return result.stdout.strip()


def timestamped_dir(base):
    path = Path(base).resolve() / time.strftime("%Y%m%d-%H%M%S")
    path.mkdir(parents=True, exist_ok=True)
    return path
