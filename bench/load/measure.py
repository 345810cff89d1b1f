"""What the load test measures: every response time after the warm-up, by category (view, save,
login), with status codes and save outcomes, written as LOAD_SUMMARY (JSON) when the test stops.
Importing this module registers its locust event listeners."""

from __future__ import annotations

import json
import os
import time
from collections import Counter, defaultdict

import gevent
from locust import events

WARMUP = float(os.environ.get("LOAD_WARMUP", 20))
SUMMARY_PATH = os.environ.get("LOAD_SUMMARY", "")


class Collector:
    """Every response time after the warm-up, by category, with status codes and save outcomes."""

    def __init__(self) -> None:
        self.measuring = False
        self.started = 0.0
        self.stopped = 0.0
        self.times: dict[str, list[float]] = defaultdict(list)
        self.endpoints: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()
        self.failures: list[str] = []

    def start(self) -> None:
        self.measuring = True
        self.started = time.time()

    def record(self, name: str, response_time: float, status: int, exception: object) -> None:
        if not self.measuring:
            return
        category = name.split(":", 1)[0]
        self.times[category].append(response_time)
        self.endpoints[name].append(response_time)
        self.statuses[f"{category} {status}"] += 1
        if exception is not None:
            self.errors[category] += 1
            if len(self.failures) < 50:
                self.failures.append(f"{name} {status} {exception}")

    def summary(self) -> dict:
        elapsed = (self.stopped or time.time()) - self.started if self.started else 0.0
        out: dict = {
            "measured_seconds": round(elapsed, 1),
            "started": self.started,
            "stopped": self.stopped or time.time(),
            "categories": {},
        }
        groups = {"view": self.times["view"], "save": self.times["save"]}
        groups["all"] = groups["view"] + groups["save"]
        for category, values in groups.items():
            values = sorted(values)
            errors = self.errors["view"] + self.errors["save"] if category == "all" else self.errors[category]
            out["categories"][category] = {
                "requests": len(values),
                "req_per_s": round(len(values) / elapsed, 2) if elapsed else None,
                "p50_ms": _percentile(values, 50),
                "p95_ms": _percentile(values, 95),
                "p99_ms": _percentile(values, 99),
                "max_ms": round(values[-1]) if values else None,
                "errors": errors,
            }
        out["endpoints"] = {
            name: {
                "requests": len(values),
                "req_per_s": round(len(values) / elapsed, 2) if elapsed else None,
                "p50_ms": _percentile(sorted(values), 50),
                "p95_ms": _percentile(sorted(values), 95),
                "p99_ms": _percentile(sorted(values), 99),
            }
            for name, values in sorted(self.endpoints.items())
            if not name.startswith("login")
        }
        out["login"] = {"requests": len(self.times["login"]), "errors": self.errors["login"]}
        out["statuses"] = dict(sorted(self.statuses.items()))
        out["save_outcomes"] = dict(sorted(self.outcomes.items()))
        out["failures_sample"] = self.failures
        return out


def _percentile(values: list[float], pct: float) -> int | None:
    if not values:
        return None
    index = min(len(values) - 1, max(0, round(pct / 100 * len(values) + 0.5) - 1))
    return round(values[index])


COLLECTOR = Collector()


@events.request.add_listener
def _on_request(name, response_time, response, exception, **_kwargs) -> None:
    status = getattr(response, "status_code", 0) or 0
    COLLECTOR.record(name, response_time, status, exception)


@events.spawning_complete.add_listener
def _on_spawned(user_count: int, **_kwargs) -> None:
    def begin() -> None:
        if RUNNER[0] is not None:
            RUNNER[0].stats.reset_all()
        COLLECTOR.start()
        print(f"[load] {user_count} users spawned; measuring from now (after {WARMUP:.0f} s warm-up)", flush=True)

    gevent.spawn_later(WARMUP, begin)


RUNNER: list = [None]


@events.init.add_listener
def _on_init(environment, **_kwargs) -> None:
    RUNNER[0] = environment.runner


@events.test_stop.add_listener
def _on_stop(environment, **_kwargs) -> None:
    COLLECTOR.stopped = time.time()
    summary = COLLECTOR.summary()
    summary["users"] = environment.parsed_options.num_users if environment.parsed_options else None
    text = json.dumps(summary, indent=2)
    print(text, flush=True)
    if SUMMARY_PATH:
        with open(SUMMARY_PATH, "w") as fh:
            fh.write(text + "\n")
