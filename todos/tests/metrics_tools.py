"""Reading /metrics as Prometheus does, and promtool's verdict on it."""

import shutil
import subprocess

from prometheus_client.parser import text_string_to_metric_families


def samples(text):
    """{(sample name, frozenset of labels): value} of a scrape."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped, name, **labels):
    """The sum of the samples named `name` whose labels include `labels` (0 if none)."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in scraped.items() if n == name and wanted <= ls)


def promtool_check(text):
    """(return code, output) of `promtool check metrics` on the text (bin/install-prometheus)."""
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: run bin/install-prometheus"
    result = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
    )
    return result.returncode, result.stdout + result.stderr
