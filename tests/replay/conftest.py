"""A small hand-built GLBX.MDP3 session (written through databento_dbn) shared by ingest tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import databento_dbn as d
import pytest

from tests import dbn_factory as f

ES, CALL, PUT, ORPHAN, SPREAD, NQ = 100, 201, 202, 203, 300, 400
T0 = f.ns("2025-11-14T14:30:00+00:00")  # 08:30 CT, trade date 2025-11-14 (a Friday)
EXPIRY = f.ns("2025-11-14T21:00:00+00:00")  # 15:00 CT
LATE = f.ns("2025-11-14T22:30:00+00:00")  # 16:30 CT: the pause, still trade date 11-14
EVENING = f.ns("2025-11-14T23:05:00+00:00")  # 17:05 CT Friday -> Saturday -> Monday 11-17
MS = 1_000_000

BIDS = [(6800.0 - 0.25 * i, 10 + i) for i in range(10)]
ASKS = [(6800.25 + 0.25 * i, 20 + i) for i in range(10)]


@dataclass
class Session:
    dir: Path
    definitions: Path
    mbp10: Path
    trades: Path
    def_records: list
    mbp_records: list
    trade_records: list


def build_session(root: Path) -> Session:
    root.mkdir(parents=True, exist_ok=True)
    defs = [
        f.definition(
            ES, T0 - 3600 * 10**9, "ESZ5", "F", expiration=f.ns("2025-12-19T14:30:00+00:00")
        ),
        f.definition(
            CALL,
            T0 - 3600 * 10**9,
            "ESZ5 C6800",
            "C",
            strike=6800.0,
            expiration=EXPIRY,
            underlying="ESZ5",
            underlying_id=ES,
        ),
        f.definition(
            PUT,
            T0 - 3600 * 10**9,
            "ESZ5 P6790",
            "P",
            strike=6790.0,
            expiration=EXPIRY,
            underlying="ESZ5",
            underlying_id=ES,
        ),
        f.definition(SPREAD, T0 - 3600 * 10**9, "ESZ5-ESH6", "S"),
    ]
    mbp = [
        f.mbp10(ES, T0 + 1 * MS, 10, "A", "B", 6800.0, 10, BIDS, ASKS),
        f.mbp10(SPREAD, T0 + 2 * MS, 11, "A", "B", -60.0, 5, [(-60.0, 5)], [(-59.75, 5)]),
        f.mbp10(ES, T0 + 3 * MS, 12, "T", "A", 6800.0, 2, BIDS, ASKS, flags=0),
        f.mbp10(ES, T0 + 3 * MS, 12, "C", "B", 6800.0, 2, [(6800.0, 8)] + BIDS[1:], ASKS),
        f.mbp10(
            ES,
            T0 + 5 * MS,
            14,
            "A",
            "A",
            6800.5,
            7,
            [(6800.0, 8)] + BIDS[1:],
            ASKS[:1] + [(6800.5, 28)] + ASKS[2:],
        ),
        f.mbp10(ES, LATE, 20, "C", "A", 6801.0, 1, BIDS, ASKS),
        f.mbp10(ES, EVENING, 21, "A", "B", 6799.0, 3, BIDS, ASKS),
    ]
    trades = [
        f.trade(ES, T0 + 3 * MS, 12, 6800.0, 2, "A"),
        f.trade(CALL, T0 + 4 * MS, 13, 12.5, 3, "B"),
        f.trade(PUT, T0 + 6 * MS, 15, 7.25, 4, "A"),
        f.trade(ORPHAN, T0 + 7 * MS, 16, 1.0, 1, "B"),
        f.trade(SPREAD, T0 + 8 * MS, 17, -60.0, 2, "N"),
        f.trade(NQ, T0 + 9 * MS, 18, 21000.0, 1, "B"),
        f.trade(ES, T0 + 10 * MS, 19, 6800.25, 5, "B"),
        f.trade(ES, EVENING + 1 * MS, 22, 6799.0, 1, "A"),
    ]
    span = (T0 - 3600 * 10**9, EVENING + 10 * MS)
    s = Session(
        dir=root,
        definitions=f.write_dbn(
            root / "glbx-mdp3-20251114.definition.dbn.zst",
            f.metadata(
                d.Schema.DEFINITION,
                {"ESZ5": ES, "ESZ5 C6800": CALL, "ESZ5 P6790": PUT, "ESZ5-ESH6": SPREAD},
                *span,
            ),
            defs,
        ),
        mbp10=f.write_dbn(
            root / "glbx-mdp3-20251114.mbp-10.dbn.zst",
            f.metadata(d.Schema.MBP_10, {"ESZ5": ES, "ESZ5-ESH6": SPREAD}, *span),
            mbp,
        ),
        trades=f.write_dbn(
            root / "glbx-mdp3-20251114.trades.dbn",
            f.metadata(
                d.Schema.TRADES,
                {
                    "ESZ5": ES,
                    "ESZ5 C6800": CALL,
                    "ESZ5 P6790": PUT,
                    "ESZ5 C6900": ORPHAN,
                    "ESZ5-ESH6": SPREAD,
                    "NQZ5": NQ,
                },
                *span,
            ),
            trades,
            compress=False,
        ),
        def_records=defs,
        mbp_records=mbp,
        trade_records=trades,
    )
    return s


@pytest.fixture()
def session(tmp_path: Path) -> Session:
    return build_session(tmp_path / "src")
