"""Reminder messages per leader per year, before and after the digest (issue 10).

    .venv/bin/python bench/messages.py                    # the example catalogue and 10,000 people
    .venv/bin/python bench/messages.py --people 0         # the example catalogue only

Worst case for the bot (nobody ever reports, so every reminder of every instance is due): for each
duty instance of 2026 and each of its reminder moments (`defaults.reminders` or the duty's own),

- before: one message per instance per reminder (what the scheduler sent until issue 10);
- after: the reminders of one person released at the same moment are ONE message (one more per
  page beyond Telegram's limits), released by `bot.services.reminders.release_at` — the code the
  scheduler runs — per person mode: `daily` (the default: one digest at remind_at, a reminder at
  another time waits for it unless the duty is due first) or `each` (as they fall due, one message
  per moment); quiet hours hold in both.

"no instance left without a reminder": every instance that had at least one reminder before has at
least one line in a message after (checked, not assumed).

The 10,000-person catalogue keeps the example's duties and gives each of its people ⌈10,000 / n⌉
namesakes with the same unit, roles and term (duties naming people name their namesakes too), so
per-leader figures compare with the example's and the totals show the scale. Identical people
have identical calendars: each distinct calendar is computed once and counted as often as it occurs.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.services import digest, reminders  # noqa: E402
from bot.store.models import DutyInstance  # noqa: E402
from schedules import Schedule, load_catalog_text  # noqa: E402

YEAR = 2026


@dataclass
class Figures:
    name: str
    leaders: int
    instances: int
    before: int
    after: dict[str, int]
    uncovered: dict[str, int]
    max_lines: dict[str, int]
    seconds: float

    def per_leader(self, n: int) -> float:
        return n / self.leaders if self.leaders else 0.0


def namesakes(example: str, people: int) -> str:
    """The example catalogue with about `people` people (see the module docstring)."""
    data = yaml.safe_load(example)
    originals = data["people"]
    copies = math.ceil(people / len(originals))
    clones: dict[str, list[str]] = {}
    out = []
    for p in originals:
        names = []
        for k in range(copies):
            q = {key: v for key, v in p.items() if key not in ("telegram_id", "deputy", "superior", "id")}
            q["name"] = f"{p['name']}{k:04d}"
            names.append(q["name"])
            out.append(q)
        clones[p.get("id", p["name"])] = names
        clones[p["name"]] = names
    data["people"] = out

    def rename(who):
        if isinstance(who, dict) and who.get("people"):
            who = dict(who, people=[n for name in who["people"] for n in clones.get(name, [name])])
        return who

    for section in ("duties", "tasks", "holiday_checks"):
        for item in data.get(section) or []:
            if "who" in item:
                item["who"] = rename(item["who"])
    for policy in (data.get("callouts") or {}).values():
        if isinstance(policy, dict) and "who" in policy:
            policy["who"] = rename(policy["who"])
        if isinstance(policy, dict) and policy.get("escalate"):
            policy["escalate"] = [s for s in policy["escalate"] if s in ("deputy", "superior", "office")]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def calendars(schedule: Schedule) -> dict[tuple, list[str]]:
    """Person ids grouped by their calendar: the same windows (and the same term) → the same messages."""
    start, end = date(YEAR - 1, 1, 1), date(YEAR + 1, 2, 1)
    member_of: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for item in schedule.items():
        windows = schedule.item_windows(item.id, start, end)
        for person in schedule.members(item.who):
            if person.office:
                continue
            for w in windows:
                if person.serves_on(w.opens_at.date(), w.due_at.date() + timedelta(days=1)):
                    member_of[person.id].append((item.id, w.period_key))
    groups: dict[tuple, list[str]] = defaultdict(list)
    for pid, keys in member_of.items():
        groups[tuple(sorted(keys))].append(pid)
    return groups


def simulate(schedule: Schedule, name: str) -> Figures:
    began = time.perf_counter()
    start, end = date(YEAR - 1, 1, 1), date(YEAR + 1, 2, 1)
    tz = schedule.tz
    year_from = datetime(YEAR, 1, 1, tzinfo=tz)
    year_to = datetime(YEAR + 1, 1, 1, tzinfo=tz)
    windows = {(w.duty_id, w.period_key): w for item in schedule.items()
               for w in schedule.item_windows(item.id, start, end)}
    groups = calendars(schedule)
    leaders = sum(len(ids) for ids in groups.values())
    before = instances = 0
    after = Counter()
    uncovered = Counter()
    max_lines = Counter()
    for keys, ids in groups.items():
        weight = len(ids)
        moments: dict[str, dict[datetime, int]] = {"daily": defaultdict(int), "each": defaultdict(int)}
        for key in keys:
            w = windows[key]
            due = [when for _, when in w.reminders if year_from <= when < year_to]
            if not due:
                continue
            instances += weight
            before += len(due) * weight
            inst = DutyInstance(duty_id=w.duty_id, person_id=ids[0], period_key=w.period_key, opens_at=w.opens_at,
                                due_at=w.due_at, closes_at=w.closes_at, required=w.required)
            for mode, by_moment in moments.items():
                released = {reminders.release_at(schedule, mode, inst, when, when) for when in due}
                for moment in released:
                    by_moment[moment] += 1  # one line for this instance in that moment's message
                uncovered[mode] += 0 if released else weight
        for mode, by_moment in moments.items():
            for lines in by_moment.values():
                after[mode] += pages(lines) * weight
                max_lines[mode] = max(max_lines[mode], lines)
    return Figures(name, leaders, instances, before, dict(after), dict(uncovered), dict(max_lines),
                   time.perf_counter() - began)


_PAGES: dict[int, int] = {}


def pages(lines: int) -> int:
    """Messages for a digest of this many lines (Telegram's limits), as digest.render splits it."""
    if lines <= 1:
        return lines
    if lines not in _PAGES:
        now = datetime(YEAR, 6, 1, 9, tzinfo=digest.fmt.SHANGHAI)
        sample = [digest.Line(n, "组织研究分析分管行业安全生产形势", "2026年第二季度", now + timedelta(days=n % 30),
                              0, 1) for n in range(lines)]
        _PAGES[lines] = len(digest.render(sample, now))
    return _PAGES[lines]


def table(figs: list[Figures]) -> str:
    out = ["| catalogue | leaders | instances | before: msgs/leader/yr | after (daily, default) | fewer | "
           "after (each) | fewer | most lines in one digest | instances without a reminder | time |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for f in figs:
        b = f.per_leader(f.before)
        d, e = f.per_leader(f.after["daily"]), f.per_leader(f.after["each"])
        out.append(f"| {f.name} | {f.leaders:,} | {f.instances:,} | {b:.1f} | {d:.1f} | {1 - d / b:.0%} | "
                   f"{e:.1f} | {1 - e / b:.0%} | {f.max_lines['daily']} | "
                   f"{f.uncovered['daily'] + f.uncovered['each']} | {f.seconds:.1f} s |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duties", default=str(ROOT / "duties.yaml"))
    parser.add_argument("--people", type=int, default=10_000, help="size of the generated catalogue (0: skip)")
    args = parser.parse_args(argv)
    example = Path(args.duties).read_text(encoding="utf-8")
    figs = [simulate(Schedule(load_catalog_text(example, args.duties)), Path(args.duties).name)]
    if args.people:
        big = load_catalog_text(namesakes(example, args.people), "generated.yaml")
        figs.append(simulate(Schedule(big), f"{len(big.people):,} people (example duties)"))
    print(table(figs))
    for f in figs:
        totals = f"before {f.before:,}, after {f.after['daily']:,} (daily) / {f.after['each']:,} (each)"
        print(f"{f.name}: reminder messages in {YEAR}: {totals}")
    worst = max(1 - f.after["daily"] / f.before for f in figs)
    ok = all(1 - f.after["daily"] / f.before >= 0.60 and not sum(f.uncovered.values()) for f in figs)
    print(f"goal (>= 60% fewer, every instance still reminded): {'met' if ok else 'NOT met'} "
          f"(best {worst:.0%})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
