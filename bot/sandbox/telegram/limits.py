"""Telegram's flood limits, enforced with sliding windows on time.monotonic()."""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Limits:
    """How many messages Telegram accepts before answering 429.

    ``None`` switches a limit off. Rates are turned into (count, window) pairs:
    ``global_per_sec=30`` allows 30 messages in any sliding 1-second window,
    ``per_chat_per_sec=0.5`` allows 1 message in any 2-second window.
    ``per_chat_per_sec`` applies to every chat, ``per_group_per_min`` additionally
    to groups and channels (chat_id < 0).
    """

    global_per_sec: float | None = 30.0
    per_chat_per_sec: float | None = 1.0
    per_group_per_min: int | None = 20

    @classmethod
    def unlimited(cls) -> Limits:
        return cls(global_per_sec=None, per_chat_per_sec=None, per_group_per_min=None)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Limits:
        known = {k: data[k] for k in ("global_per_sec", "per_chat_per_sec", "per_group_per_min") if k in data}
        return cls(**known)


def _per_second_window(rate: float) -> tuple[int, float]:
    if rate <= 0:
        raise ValueError("a rate limit must be positive (use None for no limit)")
    if rate >= 1:
        return int(rate), 1.0
    return 1, 1.0 / rate


class SlidingWindow:
    """Timestamps of accepted events within the last ``window`` seconds."""

    __slots__ = ("count", "window", "times")

    def __init__(self, count: int, window: float):
        self.count = count
        self.window = window
        self.times: deque[float] = deque()

    def _prune(self, now: float) -> None:
        edge = now - self.window
        times = self.times
        while times and times[0] <= edge:
            times.popleft()

    def wait_time(self, now: float) -> float:
        """Seconds until one more event fits; 0 if it fits now."""
        self._prune(now)
        if len(self.times) < self.count:
            return 0.0
        # The slot frees when the event that is `count` places back leaves the window.
        return self.times[-self.count] + self.window - now

    def add(self, now: float) -> None:
        self.times.append(now)


class _WindowPeak:
    """Largest number of events seen in any window of ``window`` seconds."""

    __slots__ = ("window", "times", "peak")

    def __init__(self, window: float):
        self.window = window
        self.times: deque[float] = deque()
        self.peak = 0

    def add(self, now: float) -> int:
        times = self.times
        times.append(now)
        edge = now - self.window
        while times and times[0] <= edge:
            times.popleft()
        self.peak = max(self.peak, len(times))
        return self.peak


@dataclass
class LimitStats:
    accepted: int = 0
    rate_limited: int = 0
    rate_limited_by_chat: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    global_peak: _WindowPeak = field(default_factory=lambda: _WindowPeak(1.0))
    chat_peaks: dict[int, _WindowPeak] = field(default_factory=dict)
    group_minute_peaks: dict[int, _WindowPeak] = field(default_factory=dict)

    def to_dict(self) -> dict:
        per_chat = {str(c): p.peak for c, p in self.chat_peaks.items()}
        per_group_min = {str(c): p.peak for c, p in self.group_minute_peaks.items()}
        return {
            "messages_accepted": self.accepted,
            "rate_limited": self.rate_limited,
            "rate_limited_by_chat": {str(c): n for c, n in self.rate_limited_by_chat.items()},
            "max_global_per_sec": self.global_peak.peak,
            "max_per_chat_per_sec": max(per_chat.values(), default=0),
            "max_per_chat_per_sec_by_chat": per_chat,
            "max_group_per_min": max(per_group_min.values(), default=0),
            "max_group_per_min_by_chat": per_group_min,
        }


class RateLimiter:
    """Decides whether one more message may go out now and keeps the figures benchmarks read."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.stats = LimitStats()
        self.set_limits(limits)

    def set_limits(self, limits: Limits) -> None:
        self.limits = limits
        self._global = (
            SlidingWindow(*_per_second_window(limits.global_per_sec)) if limits.global_per_sec else None
        )
        self._chat_shape = _per_second_window(limits.per_chat_per_sec) if limits.per_chat_per_sec else None
        self._chats: dict[int, SlidingWindow] = {}
        self._groups: dict[int, SlidingWindow] = {}

    def reset_stats(self) -> None:
        self.stats = LimitStats()

    def _windows_for(self, chat_id: int) -> list[SlidingWindow]:
        windows = []
        if self._global is not None:
            windows.append(self._global)
        if self._chat_shape is not None:
            win = self._chats.get(chat_id)
            if win is None:
                win = self._chats[chat_id] = SlidingWindow(*self._chat_shape)
            windows.append(win)
        if chat_id < 0 and self.limits.per_group_per_min:
            win = self._groups.get(chat_id)
            if win is None:
                win = self._groups[chat_id] = SlidingWindow(int(self.limits.per_group_per_min), 60.0)
            windows.append(win)
        return windows

    def try_acquire(self, chat_id: int) -> int | None:
        """Count one message to ``chat_id``; or return retry_after (whole seconds >= 1) and count nothing."""
        now = self.clock()
        windows = self._windows_for(chat_id)
        wait = max((w.wait_time(now) for w in windows), default=0.0)
        if wait > 0:
            self.stats.rate_limited += 1
            self.stats.rate_limited_by_chat[chat_id] += 1
            return max(1, math.ceil(wait))
        for w in windows:
            w.add(now)
        self._record_accepted(chat_id, now)
        return None

    def _record_accepted(self, chat_id: int, now: float) -> None:
        stats = self.stats
        stats.accepted += 1
        stats.global_peak.add(now)
        peak = stats.chat_peaks.get(chat_id)
        if peak is None:
            peak = stats.chat_peaks[chat_id] = _WindowPeak(1.0)
        peak.add(now)
        if chat_id < 0:
            gpeak = stats.group_minute_peaks.get(chat_id)
            if gpeak is None:
                gpeak = stats.group_minute_peaks[chat_id] = _WindowPeak(60.0)
            gpeak.add(now)
