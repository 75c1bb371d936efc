"""Benchmark: load, compile and expand the seed-004 catalogue with thousands of generated people.

    .venv/bin/python bench/compile.py [--people 10000] [--repeat 7]

The example duties.yaml is grown to N people whose roles, units and superiors are distributed like
the park's 14 (people are cycled through the park's positions), serialized back to YAML and timed:
- load:    YAML text → validated Catalog (schedules.load_catalog_text)
- compile: Catalog → APScheduler job specs (schedules.compile_jobs)
- expand:  every duty instance of 2026 (list(Schedule(catalog).expand(2026-01-01, 2027-01-01)))
Stage timings are CPU seconds of this process (time.process_time: a busy neighbour on the shared
machine does not count), median of --repeat rounds, with the wall-clock total beside them; peak
memory is measured in a separate tracemalloc run, plus the process's peak RSS. Not a test: it
prints figures and checks the two properties the design promises (job count independent of
people, near-linear growth).
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import time
import tracemalloc
from datetime import date
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from schedules import Schedule, compile_jobs, load_catalog_text  # noqa: E402

YEAR_START, YEAR_END = date(2026, 1, 1), date(2027, 1, 1)


def catalogue_text(people: int) -> str:
    """duties.yaml with `people` people in all: the park's 14 plus generated ones like them."""
    data = yaml.safe_load((ROOT / "duties.yaml").read_text(encoding="utf-8"))
    park = list(data["people"])
    for n in range(people - len(park)):
        template = park[n % len(park)]
        person = {"name": f"{template['name']}{n:05d}", "unit": template["unit"],
                  "position": template.get("position", ""), "roles": list(template["roles"])}
        if template.get("superior"):
            person["superior"] = template["superior"]
        if template.get("office"):
            person["office"] = True
        data["people"].append(person)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


def run_once(text: str) -> dict:
    """CPU seconds of this process per stage (other processes on the machine do not count), and
    the wall-clock total."""
    wall = time.perf_counter()
    t0 = time.process_time()
    catalog = load_catalog_text(text, "bench.yaml")
    t1 = time.process_time()
    jobs = compile_jobs(catalog)
    t2 = time.process_time()
    instances = list(Schedule(catalog).expand(YEAR_START, YEAR_END))
    t3 = time.process_time()
    return {"load": t1 - t0, "compile": t2 - t1, "expand": t3 - t2, "total": t3 - t0,
            "wall": time.perf_counter() - wall,
            "jobs": len(jobs), "instances": len(instances), "people": len(catalog.people)}


def peak_memory(text: str) -> int:
    gc.collect()
    tracemalloc.start()
    catalog = load_catalog_text(text, "bench.yaml")
    compile_jobs(catalog)
    instances = list(Schedule(catalog).expand(YEAR_START, YEAR_END))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del instances
    return peak


def measure(sizes: list[int], repeat: int) -> dict[int, dict]:
    """Median timings per size; the sizes take turns in each round, so a busy spell on the
    machine hits them alike instead of skewing the ratio."""
    texts = {n: catalogue_text(n) for n in sizes}
    runs: dict[int, list[dict]] = {n: [] for n in sizes}
    for _ in range(repeat):
        for n in sizes:
            runs[n].append(run_once(texts[n]))
    results = {}
    for n in sizes:
        out = {k: statistics.median(r[k] for r in runs[n]) for k in ("load", "compile", "expand", "total", "wall")}
        out.update({k: runs[n][0][k] for k in ("jobs", "instances", "people")})
        out["yaml_kb"] = len(texts[n].encode()) / 1024
        out["peak_mb"] = peak_memory(texts[n]) / 2**20
        results[n] = out
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    sizes = [100, args.people, 2 * args.people]
    results = measure(sizes, args.repeat)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux

    print(f"{'people':>7} {'yaml KB':>8} {'load s':>8} {'compile s':>10} {'expand s':>9} {'total s':>8}"
          f" {'wall s':>7} {'instances':>10} {'jobs':>5} {'peak MB':>8}")
    for r in results.values():
        print(f"{r['people']:>7} {r['yaml_kb']:>8.0f} {r['load']:>8.3f} {r['compile']:>10.4f} {r['expand']:>9.3f}"
              f" {r['total']:>8.3f} {r['wall']:>7.3f} {r['instances']:>10} {r['jobs']:>5} {r['peak_mb']:>8.1f}")
    small, big, bigger = (results[n] for n in sizes)
    ratio = bigger["total"] / big["total"]
    print(f"\njobs: {small['jobs']} (100 people) == {big['jobs']} ({args.people}) == {bigger['jobs']} ({2 * args.people})")
    print(f"time ratio {2 * args.people}/{args.people} people: {ratio:.2f} CPU, "
          f"{bigger['wall'] / big['wall']:.2f} wall clock (goal ≤ 2.2)")
    print(f"process peak RSS: {rss_mb:.0f} MB; stage times are CPU seconds, median of {args.repeat} rounds; "
          f"Python {sys.version.split()[0]}")
    assert small["jobs"] == big["jobs"] == bigger["jobs"], "job count depends on the number of people"
    if ratio > 2.2:
        print("WARNING: growth is worse than linear", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
