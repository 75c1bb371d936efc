"""Argument types shared by the commands: bad values become argparse errors, never tracebacks.

Dates are kept within the years the product can mean (MIN_DATE..MAX_DATE): a year 1 or 9999 is a
typo, and date arithmetic past them (a day after 9999-12-31) would overflow.
"""

from __future__ import annotations

import argparse
from datetime import date, datetime

from bot.store.models import MAX_ROW_ID
from bot.texts import cli as T
from bot.texts import fmt

MIN_DATE, MAX_DATE = date(1900, 1, 1), date(2100, 12, 31)


def day(text: str) -> date:
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期应为 YYYY-MM-DD / date must be YYYY-MM-DD: {text!r}") from None
    if not MIN_DATE <= value <= MAX_DATE:
        raise argparse.ArgumentTypeError(T.DATE_RANGE.format(low=MIN_DATE, high=MAX_DATE, value=text))
    return value


def moment(text: str) -> datetime:
    """--at: an ISO date-time; without an offset it is Shanghai time."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"时间应为 ISO 格式，如 2026-07-01T12:00 / expected an ISO date-time: {text!r}") from None
    if not MIN_DATE <= value.date() <= MAX_DATE:
        raise argparse.ArgumentTypeError(T.DATE_RANGE.format(low=MIN_DATE, high=MAX_DATE, value=text))
    return value if value.tzinfo else value.replace(tzinfo=fmt.SHANGHAI)


def record_id(text: str) -> int:
    """A row id (callout number): a positive integer the database can hold."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"编号应为整数 / expected a whole number: {text!r}") from None
    if not 1 <= value <= MAX_ROW_ID:
        raise argparse.ArgumentTypeError(T.ID_OUT_OF_RANGE.format(value=text))
    return value


def bounded_int(low: int, high: int):
    return _bounded(int, low, high, "整数 / a whole number", "integer")


def bounded_float(low: float, high: float):
    return _bounded(float, low, high, "数字 / a number", "number")


def _bounded(convert, low, high, expected: str, name: str):
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"应为{expected}: {text!r}") from None
        if not low <= value <= high:  # also refuses nan
            raise argparse.ArgumentTypeError(T.NUMBER_OUT_OF_RANGE.format(low=low, high=high, value=text))
        return value

    parse.__name__ = name  # argparse names the type in its messages
    return parse
