"""report.md: the scenarios' figures, the crud operations side by side with the seed's BEFORE
design, and the seed's own figures."""

from .harness import total

# The seed report's figures, in operations (requests) per second.
SEED_FIGURES = [
    ("seed BEFORE, measured by the seed", 2.28, 2.28),
    ("seed phase 1 prediction (pool 20+30, indexes)", 7, 11),
    ("seed phase 2 prediction (async SQLAlchemy)", 20, 45),
    ("seed phase 3 prediction (full)", 100, 450),
]
# Issue 4's targets.
TARGET_CRUD_RATIO = 1.0  # crud req/s at or above the FastAPI BEFORE design's, same run
TARGET_BULK_ROWS = 9500
TARGET_BIGTABLE_P95_MS = 5
# Issue 11's: each search's p95 within this many times the plain first page's, same run; a
# batch edit of 200 at least as many rows/s as a bulk create of 200, same run.
TARGET_SEARCH_P95_RATIO = 3.0
TARGET_BATCH_ROWS_RATIO = 1.0


def markdown(context, runs):
    m = context["machine"]
    ours = {run["label"]: run for run in runs if not run.get("reference")}
    reference = next((run for run in runs if run.get("reference")), None)
    lines = [
        "# Benchmark report",
        "",
        f"- Machine: {m['cores']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM; Python "
        f"{m['python']}, PostgreSQL {m['postgres']} (max_connections {m['max_connections']}). "
        "Locust, the server and PostgreSQL share the same cores.",
        f"- Code: commit {m['commit']}" + (" with uncommitted changes" if m["dirty"] else "") + ".",
        f"- Server: {context.get('server') or 'manage.py serve'}.",
        f"- Load average before the run: {_load(context['load_before'])}; after: "
        f"{_load(context.get('load_after', []))}." + _busy(context.get("busy_before", [])),
        "",
        "## Scenarios",
        "",
        "| scenario | users | requests | failures | success rate | threshold | req/s | p50 ms | "
        "p95 ms | p99 ms | notes |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for run in runs:
        agg = total(run)
        name = run["label"] + (" (FastAPI BEFORE design)" if run.get("reference") else "")
        lines.append(
            f"| {name} | {run['users']} | {agg.get('requests', 0)} | {agg.get('failures', 0)} | "
            f"{run.get('success_rate', 0):.2f}% | {run.get('threshold', '')}% | "
            f"{agg.get('rps', 0):.1f} | {_ms(agg.get('p50'))} | {_ms(agg.get('p95'))} | "
            f"{_ms(agg.get('p99'))} | {_notes(run)} |"
        )
    if "crud" in ours:
        lines += _crud_operations(ours["crud"], reference)
        lines += _seed_comparison(ours["crud"], reference)
    lines += _targets(ours, reference)
    lines += [
        "",
        "Locust's own CSV and HTML for each scenario are next to this file (`<scenario>_stats.csv`, "
        "`<scenario>.html`); `chart.png` draws throughput and latency.",
        "",
    ]
    return "\n".join(lines)


def crud_ratio(ours, reference):
    ref_rps = total(reference).get("rps") or 0
    return total(ours).get("rps", 0) / ref_rps if ref_rps else None


def _crud_operations(crud, reference):
    lines = [
        "",
        "## crud, per operation",
        "",
        "| operation | req/s | p50 / p95 / p99 ms |"
        + (" FastAPI BEFORE req/s | FastAPI BEFORE p50 / p95 / p99 ms |" if reference else ""),
        "| --- | ---: | ---: |" + (" ---: | ---: |" if reference else ""),
    ]
    for name, row in crud["stats"].items():
        if name == "Aggregated":
            continue
        line = f"| {name} | {row['rps']:.1f} | {_triple(row)} |"
        if reference:
            ref = reference["stats"].get(name)
            line += f" {ref['rps']:.1f} | {_triple(ref)} |" if ref else " | |"
        lines.append(line)
    return lines


def _seed_comparison(crud, reference):
    rps = total(crud).get("rps", 0)
    lines = [
        "",
        "## Against the seed's figures",
        "",
        f"This run's crud loop: {rps:.1f} requests/s at {crud['users']} users.",
        "",
        "| figure | ops/s | this run's crud / figure |",
        "| --- | ---: | ---: |",
    ]
    for name, low, high in SEED_FIGURES:
        shown = f"{low:g}" if low == high else f"{low:g}-{high:g}"
        ratio = _x(rps / high) if low == high else f"{_x(rps / high)}-{_x(rps / low)}"
        lines.append(f"| {name} | {shown} | {ratio} |")
    if reference:
        ref_rps = total(reference).get("rps", 0)
        lines.append(
            f"| FastAPI BEFORE design (bench/seed_before), this run | {ref_rps:.1f} | "
            f"**{crud_ratio(crud, reference):.2f}** |"
        )
    return lines


def _targets(ours, reference):
    lines = ["", "## Targets", "", "| target | this run | met |", "| --- | --- | --- |"]

    def add(target, value, met):
        lines.append(f"| {target} | {value} | {'yes' if met else '**no**'} |")

    if "crud" in ours and reference:
        ratio = crud_ratio(ours["crud"], reference)
        add(
            "crud at or above the FastAPI BEFORE design's req/s, zero failures",
            f"{ratio:.2f}x, {total(ours['crud']).get('failures', 0)} failures",
            ratio >= TARGET_CRUD_RATIO and total(ours["crud"]).get("failures", 1) == 0,
        )
    if "burst" in ours:
        created = ours["burst"].get("burst_created", 0)
        add("burst: 200 of 200 created", f"{created} of 200", created == 200)
    if "bulk" in ours:
        rows = ours["bulk"].get("rows_per_s", 0)
        add(f"bulk at or above {TARGET_BULK_ROWS:,} rows/s", f"{rows:,.0f} rows/s", rows >= 9500)
    if "bigtable" in ours:
        p95 = total(ours["bigtable"]).get("p95") or float("inf")
        add(
            f"bigtable list p95 at or below {TARGET_BIGTABLE_P95_MS} ms "
            f"({ours['bigtable']['users']} users)",
            f"{p95:g} ms",
            p95 <= TARGET_BIGTABLE_P95_MS,
        )
    if "search" in ours:
        stats = ours["search"]["stats"]
        plain = (stats.get("plain list") or {}).get("p95") or float("inf")
        for name in ("search, rare word", "search, word in every title"):
            p95 = (stats.get(name) or {}).get("p95") or float("inf")
            add(
                f"{name}: p95 within {TARGET_SEARCH_P95_RATIO:g}x the plain first page's "
                f"({ours['search']['users']} users)",
                f"{p95:g} ms vs {plain:g} ms: {p95 / plain:.2f}x",
                p95 <= TARGET_SEARCH_P95_RATIO * plain,
            )
    if "batch" in ours and "bulk" in ours:
        batch, bulk = ours["batch"].get("rows_per_s", 0), ours["bulk"].get("rows_per_s", 0)
        ratio = batch / bulk if bulk else 0
        add(
            "batch edit of 200 at least bulk create's rows/s",
            f"{batch:,.0f} vs {bulk:,.0f} rows/s: {ratio:.2f}x",
            ratio >= TARGET_BATCH_ROWS_RATIO,
        )
    return lines if len(lines) > 5 else []


def _notes(run):
    notes = []
    if "burst_wall_time_s" in run:
        notes.append(
            f"{run.get('burst_created', 0)} of {run['burst_size']} created in "
            f"{run['burst_wall_time_s']} s wall time"
        )
    if "rows_per_s" in run:
        notes.append(f"{run['rows_per_s']:,.0f} rows/s")
    if run.get("bigtable_rows"):
        notes.append(f"the user has {run['bigtable_rows']:,} todos")
    if run.get("exit_code") not in (0, None):
        notes.append(f"**exit code {run['exit_code']}**")
    return "; ".join(notes)


def _x(ratio):
    return f"{ratio:.1f}x" if ratio < 10 else f"{ratio:.0f}x"


def _triple(row):
    return f"{_ms(row['p50'])} / {_ms(row['p95'])} / {_ms(row['p99'])}"


def _ms(value):
    return "" if value is None else f"{value:g}"


def _load(values):
    return " / ".join(f"{v:g}" for v in values) + " (1 / 5 / 15 min)" if values else "n/a"


def _busy(processes):
    if not processes:
        return ""
    return " Busiest processes before it (% CPU, command): " + "; ".join(
        f"`{p[:80]}`" for p in processes
    )
