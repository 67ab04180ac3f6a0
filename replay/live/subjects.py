"""The NATS contract of live mode (SPEC §6), defined once: subjects, the stream, message ids and
the JSON of session and clock messages. ``publish`` and ``live`` both derive from here."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

SESSION = "market.session"
MBP10 = "market.futures.mbp10"
TRADES = "market.futures.trades"
OPTIONS = "market.options.trades"
DEFINITIONS = "market.definitions"
CLOCK = "market.clock"
MARKET = "market.>"
SIGNALS = "levels.signals"

TABLE_SUBJECT = {
    "definitions": DEFINITIONS,
    "futures_mbp10": MBP10,
    "futures_trades": TRADES,
    "option_trades": OPTIONS,
}
SUBJECT_TABLE = {v: k for k, v in TABLE_SUBJECT.items()}
KEY_COLUMNS = ("ts_recv", "sequence", "src_key", "src_row")

MSG_ID = "Nats-Msg-Id"
SNAP_HEADER = "Levelreplay-Snap"  # levels.signals: the snap index k
CLOSED_BY_HEADER = "Levelreplay-Closed-By"  # levels.signals: stream sequence that closed the snap
DUPLICATE_WINDOW_S = 24 * 3600.0  # a session's republished message is dropped by the server


def stream_name(date: dt.date) -> str:
    """One JetStream stream per trade date (file storage)."""
    return f"LEVELREPLAY_MARKET_{date:%Y%m%d}"


def archived_subjects(name: str) -> list[str]:
    """Where an older date's stream is moved when a newer one takes ``market.>`` (two streams
    cannot capture one subject); its stored messages keep their subjects and stay readable."""
    return [f"levelreplay.archive.{name}.>"]


def msg_id(date: dt.date, subject: str, first: int, last: int) -> str:
    """``Nats-Msg-Id``: trade date, subject and merged-order index range (SPEC §6)."""
    return f"{date.isoformat()}|{subject}|{first}-{last}"


def index_range(msg_id_value: str) -> tuple[int, int]:
    """The merged-order index range of a record message's id (fields after it are ignored: a
    feed adapter may add its own)."""
    first, last = msg_id_value.split("|")[2].split("-")
    return int(first), int(last)


@dataclass(frozen=True)
class SessionStart:
    """``market.session`` start: what the engines must know before the first record."""

    date: dt.date
    primary_id: int
    primary_symbol: str
    t0_ns: int
    trades_from_depth: bool
    prior: tuple[int, int, int] | None  # prior session's high, low, close (price units)

    def to_json(self) -> bytes:
        doc = {
            "type": "start",
            "trade_date": self.date.isoformat(),
            "primary": {"instrument_id": self.primary_id, "symbol": self.primary_symbol},
            "t0_ns": self.t0_ns,
            "trades_from_depth": self.trades_from_depth,
            "prior": None
            if self.prior is None
            else dict(zip(("high", "low", "close"), self.prior, strict=True)),
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> SessionStart:
        doc = json.loads(data)
        prior = doc.get("prior")
        return cls(
            date=dt.date.fromisoformat(doc["trade_date"]),
            primary_id=int(doc["primary"]["instrument_id"]),
            primary_symbol=str(doc["primary"]["symbol"]),
            t0_ns=int(doc["t0_ns"]),
            trades_from_depth=bool(doc.get("trades_from_depth", False)),
            prior=None
            if prior is None
            else (int(prior["high"]), int(prior["low"]), int(prior["close"])),
        )


@dataclass(frozen=True)
class SessionEnd:
    """``market.session`` end: the session's last record time and how many records it sent."""

    date: dt.date
    last_event_ns: int | None
    records: int

    def to_json(self) -> bytes:
        doc = {
            "type": "end",
            "trade_date": self.date.isoformat(),
            "last_event_ns": self.last_event_ns,
            "records": self.records,
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> SessionEnd:
        doc = json.loads(data)
        last = doc.get("last_event_ns")
        return cls(dt.date.fromisoformat(doc["trade_date"]), last, int(doc["records"]))


def session_message_type(data: bytes) -> str:
    """``start`` or ``end`` (anything else is malformed)."""
    return str(json.loads(data).get("type"))
