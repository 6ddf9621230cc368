"""Load tests of the Todo API, one named scenario per run.

    manage.py seed_loadtest --tokens-file tokens.json --bigtable-rows 1000000
    locust -f locustfile.py --headless --scenario crud -u 50 -r 50 -t 30s \
        -H http://127.0.0.1:8000 --tokens-file tokens.json

Scenarios (--scenario):
  burst     200 creates fired at the same instant by one user, then the run stops
  crud      each user loops create, get, filtered list, update, delete, plain list
  bulk      POST /api/todo/bulk with 200 items, one after the other
  bigtable  filtered list pages, and following `next`, for a user with a big table of todos
  search    the big table's user: the plain first page, a search for a rare word (a number
            that starts one title or two) and for a word in every title, side by side
  batch     PATCH /api/todo/bulk of 200 of the user's todos, one after the other

Every request sends `Authorization: Token <key>`; the tokens come from the JSON file that
`manage.py seed_loadtest` writes. Any non-2xx answer or timeout is a failure. The run exits 1
when a scenario's success rate is below its threshold (100% for burst and crud), or when it
made no request at all; bin/bench (bench/run.py) runs every scenario and writes the report.
"""

import itertools
import json
import random
import time
from pathlib import Path

import gevent
import gevent.pool
from locust import FastHttpUser, constant, events, task

BURST_SIZE = 200
BULK_SIZE = 200
# Minimum success rate per scenario, in percent.
THRESHOLDS = {
    "burst": 100.0,
    "crud": 100.0,
    "bulk": 99.0,
    "bigtable": 99.0,
    "search": 99.0,
    "batch": 99.0,
}
BATCH_SIZE = 200
BATCH_POOL = 2000  # the batch user's todos, edited 200 at a time in turn
# The search scenario's requests, by name: the plain list's first page is what both searches
# are held against (bench/report.py).
PLAIN_LIST, RARE_WORD, COMMON_WORD = (
    "plain list",
    "search, rare word",
    "search, word in every title",
)
REQUEST_TIMEOUT = 10.0
# Pages of the bigtable scenario: (name, query); each one also follows its `next` link once.
BIGTABLE_PAGES = [
    ("open, high", "completed=false&priority=high&page_size=20"),
    ("open", "completed=false&page_size=20"),
    ("done, low", "completed=true&priority=low&page_size=50"),
    ("all", "page_size=20"),
]


@events.init_command_line_parser.add_listener
def _add_arguments(parser):
    parser.add_argument(
        "--scenario", choices=sorted(THRESHOLDS), default="crud", help="the scenario to run"
    )
    parser.add_argument(
        "--tokens-file",
        default="tokens.json",
        help="JSON written by `manage.py seed_loadtest --tokens-file`",
    )
    parser.add_argument(
        "--summary-file", default="", help="write the scenario's outcome here as JSON"
    )


class ApiUser(FastHttpUser):
    abstract = True
    wait_time = constant(0)
    network_timeout = REQUEST_TIMEOUT
    connection_timeout = REQUEST_TIMEOUT

    def on_start(self):
        self.auth = {"Authorization": f"Token {self.next_token()}"}

    def next_token(self):
        return _tokens(self.environment)[self.scenario]

    def call(self, method, path, *, name, json=None):
        """One request; returns the decoded JSON body (or {}) on a 2xx, None otherwise."""
        with self.client.request(
            method,
            path,
            name=name,
            json=json,
            headers=self.auth,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if 200 <= response.status_code < 300:
                response.success()
                return response.json() if response.content else {}
            reason = response.error or (response.text or "")[:200]
            response.failure(f"HTTP {response.status_code}: {reason}")
            return None


class BurstUser(ApiUser):
    """The seed's "Bulk Create (200)": 200 single creates at once, then the runner stops."""

    scenario = "burst"
    fixed_count = 1
    concurrency = BURST_SIZE  # connections this user may hold open at the same time

    @task
    def burst(self):
        pool = gevent.pool.Pool(BURST_SIZE)
        started = time.perf_counter()
        results = pool.map(self.create_one, range(BURST_SIZE))
        _outcome(self.environment).update(
            burst_size=BURST_SIZE,
            burst_created=sum(results),
            burst_wall_time_s=round(time.perf_counter() - started, 3),
        )
        self.environment.runner.quit()

    def create_one(self, n):
        return self.call("POST", "/api/todo", name="create", json=_new_todo(n)) is not None


class CrudUser(ApiUser):
    scenario = "crud"

    def next_token(self):
        return next(_crud_tokens(self.environment))

    @task
    def crud_loop(self):
        todo = self.call("POST", "/api/todo", name="create", json=_new_todo(0))
        if todo is None:
            return
        path = f"/api/todo/{todo['id']}"
        self.call("GET", path, name="get")
        self.call("GET", "/api/todo?completed=false&priority=high", name="list filtered")
        self.call("PUT", path, name="update", json={**_new_todo(1), "completed": True})
        self.call("DELETE", path, name="delete")
        self.call("GET", "/api/todo", name="list")


class BulkUser(ApiUser):
    scenario = "bulk"
    fixed_count = 1

    @task
    def bulk(self):
        items = [_new_todo(n) for n in range(BULK_SIZE)]
        self.call("POST", "/api/todo/bulk", name=f"bulk {BULK_SIZE}", json=items)


class BigtableUser(ApiUser):
    scenario = "bigtable"

    @task
    def pages(self):
        for name, query in BIGTABLE_PAGES:
            page = self.call("GET", f"/api/todo?{query}", name=name)
            if page and page.get("next"):
                self.call("GET", page["next"], name=f"{name}, next page")


class SearchUser(ApiUser):
    """The bigtable user's titles are "Load-test todo <n>", n from 1 to the table's size: a
    random six-digit number starts one or two of a million titles, "todo" starts a word of
    every one."""

    scenario = "search"

    def next_token(self):
        return _tokens(self.environment)["bigtable"]

    @task
    def searches(self):
        self.call("GET", "/api/todo", name=PLAIN_LIST)
        self.call("GET", f"/api/todo?q={random.randint(100000, 999999)}", name=RARE_WORD)
        self.call("GET", "/api/todo?q=todo", name=COMMON_WORD)


class BatchUser(ApiUser):
    """Edits 200 of its own todos at a time, the next 200 of 2,000 each time (a batch edit
    touches todos that another did not just change, as a person's would)."""

    scenario = "batch"
    fixed_count = 1

    def on_start(self):
        super().on_start()
        self.ids = []
        for _ in range(BATCH_POOL // BATCH_SIZE):
            created = self.call(
                "POST",
                "/api/todo/bulk",
                name="setup: bulk create",
                json=[_new_todo(n) for n in range(BATCH_SIZE)],
            )
            self.ids += [todo["id"] for todo in created or []]
        self.rounds = itertools.count()

    @task
    def batch(self):
        n = next(self.rounds)
        start = n * BATCH_SIZE % len(self.ids)
        round_trip = n * BATCH_SIZE // len(self.ids)
        items = [
            {"id": pk, "completed": round_trip % 2 == 0, "priority": ("low", "high")[n % 2]}
            for pk in self.ids[start : start + BATCH_SIZE]
        ]
        self.call("PATCH", "/api/todo/bulk", name=f"batch edit {BATCH_SIZE}", json=items)


SCENARIOS = {
    user.scenario: user
    for user in (BurstUser, CrudUser, BulkUser, BigtableUser, SearchUser, BatchUser)
}


@events.init.add_listener
def _pick_scenario(environment, **kwargs):
    options = environment.parsed_options
    if options is None:  # Locust used as a library: the caller picks the user classes
        return
    environment.user_classes[:] = [SCENARIOS[options.scenario]]
    _tokens(environment)  # a missing or wrong tokens file stops the run before it starts


@events.quitting.add_listener
def _apply_threshold(environment, **kwargs):
    options = environment.parsed_options
    if options is None:
        return
    scenario = options.scenario
    total = environment.stats.total
    success_rate = (
        100.0 * (total.num_requests - total.num_failures) / total.num_requests
        if total.num_requests
        else 0.0
    )
    passed = total.num_requests > 0 and success_rate >= THRESHOLDS[scenario]
    outcome = _outcome(environment)
    if scenario == "burst":
        passed = passed and outcome.get("burst_created") == BURST_SIZE
    duration = max((total.last_request_timestamp or 0) - total.start_time, 1e-9)
    outcome.update(
        scenario=scenario,
        passed=passed,
        success_rate=round(success_rate, 3),
        threshold=THRESHOLDS[scenario],
        duration_s=round(duration, 3),
        stats={
            **{name: _figures(entry) for (name, _), entry in environment.stats.entries.items()},
            "Aggregated": _figures(total),
        },
    )
    if scenario == "bulk":
        ok = total.num_requests - total.num_failures
        outcome["rows_per_s"] = round(ok * BULK_SIZE / duration, 1)
    if scenario == "batch":
        edits = environment.stats.get(f"batch edit {BATCH_SIZE}", "PATCH")
        busy = max((edits.last_request_timestamp or 0) - edits.start_time, 1e-9)
        ok = edits.num_requests - edits.num_failures
        outcome["rows_per_s"] = round(ok * BATCH_SIZE / busy, 1)
    environment.process_exit_code = 0 if passed else 1
    print(f"scenario {scenario}: {'passed' if passed else 'FAILED'}, {success_rate:.2f}% success")
    if options.summary_file:
        Path(options.summary_file).write_text(json.dumps(outcome, indent=1))
    if options.csv_prefix:
        gevent.sleep(1.5)  # let Locust's CSV writer (once a second) write the final figures


def _figures(entry):
    def percentile(p):
        return entry.get_response_time_percentile(p) if entry.num_requests else None

    return {
        "method": entry.method or "",
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "rps": round(entry.total_rps, 2),
        "avg": round(entry.avg_response_time, 2),
        "p50": percentile(0.5),
        "p95": percentile(0.95),
        "p99": percentile(0.99),
    }


def _new_todo(n):
    return {
        "title": f"Load-test todo {n}",
        "description": "Written by locustfile.py",
        "priority": ("low", "medium", "high")[n % 3],
        "due_date": "2027-01-31",
    }


def _tokens(environment):
    if not hasattr(environment, "loadtest_tokens"):
        path = Path(environment.parsed_options.tokens_file)
        if not path.is_file():
            raise SystemExit(
                f"No tokens file at {path}: run `manage.py seed_loadtest --tokens-file {path}` first"
            )
        environment.loadtest_tokens = json.loads(path.read_text())
    return environment.loadtest_tokens


def _crud_tokens(environment):
    """Each crud user takes the next user's token, round the list."""
    if not hasattr(environment, "crud_tokens"):
        environment.crud_tokens = itertools.cycle(_tokens(environment)["crud"])
    return environment.crud_tokens


def _outcome(environment):
    if not hasattr(environment, "loadtest_outcome"):
        environment.loadtest_outcome = {}
    return environment.loadtest_outcome
