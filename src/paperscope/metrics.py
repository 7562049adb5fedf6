"""Prometheus metrics in the text exposition format (0.0.4), kept per process without a client library.

Counters and histograms count what this worker served; gauges are read from the store and indexes at
scrape time, so every worker reports the same catalogue-wide values.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

SEARCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    esc = (f'{k}="{str(v).replace(chr(92), chr(92) * 2).replace(chr(10), "").replace(chr(34), chr(92) + chr(34))}"'
           for k, v in sorted(labels.items()))
    return "{" + ",".join(esc) + "}"


def _num(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


@dataclass
class Counter:
    """A monotonically increasing count per label set."""

    name: str
    help: str
    values: dict[tuple[tuple[str, str], ...], float] = field(default_factory=dict)

    def inc(self, labels: Mapping[str, str] | None = None, by: float = 1.0) -> None:
        """Add `by` to the series of these labels."""
        key = tuple(sorted((labels or {}).items()))
        self.values[key] = self.values.get(key, 0.0) + by

    def render(self) -> Iterable[str]:
        """Exposition lines."""
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} counter"
        for key, value in sorted(self.values.items()):
            yield f"{self.name}{_labels(dict(key))} {_num(value)}"


@dataclass
class Histogram:
    """Cumulative buckets, sum and count of observed seconds."""

    name: str
    help: str
    buckets: tuple[float, ...] = SEARCH_BUCKETS
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    n: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * len(self.buckets)

    def observe(self, seconds: float) -> None:
        """Count one observation in every bucket it fits."""
        for i, bound in enumerate(self.buckets):
            if seconds <= bound:
                self.counts[i] += 1
        self.total += seconds
        self.n += 1

    def render(self) -> Iterable[str]:
        """Exposition lines (buckets are cumulative, as Prometheus expects)."""
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} histogram"
        for bound, count in zip(self.buckets, self.counts, strict=True):
            yield f'{self.name}_bucket{{le="{_num(bound)}"}} {count}'
        yield f'{self.name}_bucket{{le="+Inf"}} {self.n}'
        yield f"{self.name}_sum {_num(self.total)}"
        yield f"{self.name}_count {self.n}"


def gauge_lines(name: str, help: str, series: Mapping[tuple[tuple[str, str], ...], float]) -> list[str]:
    """Exposition lines of a gauge whose values were read just now."""
    lines = [f"# HELP {name} {help}", f"# TYPE {name} gauge"]
    lines += [f"{name}{_labels(dict(key))} {_num(value)}" for key, value in sorted(series.items())]
    return lines


@dataclass
class Metrics:
    """What one web worker counts; `render` adds the gauges its caller read from the catalogue."""

    requests: Counter = field(default_factory=lambda: Counter(
        "paperscope_http_requests_total", "HTTP requests answered, by route kind and status code"))
    search: Histogram = field(default_factory=lambda: Histogram(
        "paperscope_search_seconds", "Time to answer a search request (API and page), in seconds"))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def observe_request(self, kind: str, status: int, seconds: float, is_search: bool) -> None:
        """Count one answered request; searches also go into the latency histogram."""
        with self.lock:
            self.requests.inc({"kind": kind, "status": str(status)})
            if is_search:
                self.search.observe(seconds)

    def render(self, gauges: Iterable[str] = ()) -> str:
        """The whole exposition document."""
        with self.lock:
            lines = [*self.requests.render(), *self.search.render()]
        return "\n".join([*lines, *gauges]) + "\n"
