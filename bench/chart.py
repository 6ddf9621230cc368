"""chart.png from report.json: throughput and latency per scenario. Runs in bench/.venv
(matplotlib is pinned in bench/requirements.txt): python -m bench.chart report.json chart.png"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def draw(report, path):
    runs = [run for run in report["runs"] if run.get("stats", {}).get("Aggregated")]
    names = [_name(run) for run in runs]
    totals = [run["stats"]["Aggregated"] for run in runs]
    colours = ["tab:grey" if run.get("reference") else "tab:blue" for run in runs]

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    bars = left.bar(names, [t["rps"] for t in totals], color=colours)
    left.bar_label(bars, fmt="%.0f")
    left.set_title("Throughput (requests/s)")
    left.set_ylabel("requests/s")

    width = 0.27
    for offset, key, colour in (
        (-width, "p50", "tab:green"),
        (0, "p95", "tab:orange"),
        (width, "p99", "tab:red"),
    ):
        right.bar(
            [i + offset for i in range(len(runs))],
            [t[key] or 0 for t in totals],
            width,
            label=key,
            color=colour,
        )
    right.set_xticks(range(len(runs)), names)
    right.set_yscale("log")
    right.set_title("Latency (ms, log scale)")
    right.set_ylabel("ms")
    right.legend()

    machine = report["machine"]
    fig.suptitle(
        f"Todo service benchmark, {machine['cores']} cores ({machine['cpu']}), "
        "Locust on the same machine"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _name(run):
    if run.get("reference"):
        return "crud\nFastAPI BEFORE"
    if "burst_wall_time_s" in run:
        return f"burst\n{run['burst_created']} in {run['burst_wall_time_s']:.1f} s"
    if "rows_per_s" in run:
        return f"bulk\n{run['rows_per_s']:,.0f} rows/s"
    return run["label"]


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        draw(json.load(f), sys.argv[2])
