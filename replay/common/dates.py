"""Trade dates as users write them: ``YYYY-MM-DD`` and nothing else.

``datetime.date.fromisoformat`` also takes ``20251114`` and ``2025-W46-5`` (Python 3.11), so a
typo could silently name another spelling of a session, and a golden file, a directory name or a
command line would each parse dates its own way. Every date read from outside goes through
``iso_date``: one spelling, one error naming the field and what was expected.
"""

from __future__ import annotations

import datetime as dt
import re

from replay.common.errors import UserError

_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def is_iso_date(text: object) -> bool:
    """True for a ``str`` spelled ``YYYY-MM-DD`` that names a real calendar date."""
    if not isinstance(text, str) or _ISO.fullmatch(text) is None:
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def iso_date(text: object, field: str = "date", path: str | None = None) -> dt.date:
    """``text`` as a date, or a user error naming ``field`` (and ``path``, the file it came
    from) and the one spelling expected."""
    if not is_iso_date(text):
        raise UserError(
            f"{field} {text!r} is not a calendar date",
            path=path,
            expected="YYYY-MM-DD, e.g. 2025-11-14",
        )
    assert isinstance(text, str)
    return dt.date.fromisoformat(text)


def date_range(first: dt.date, last: dt.date | None) -> list[dt.date]:
    """Every calendar date from ``first`` through ``last`` (``first`` alone when None)."""
    last = first if last is None else last
    if last < first:
        raise UserError(f"--end-date {last} is before --date {first}", expected="end >= start")
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
