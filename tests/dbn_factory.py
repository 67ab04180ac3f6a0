"""Tiny DBN files for tests, built record by record through ``databento_dbn``'s own constructors.

Deliberately the slow, obviously-correct path (one databento_dbn object per record): the tests
compare ingest's columnar decoding against exactly these objects.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import databento_dbn as d
import zstandard

PX = 1_000_000_000  # 1 index point in fixed-point units
UNDEF = d.UNDEF_PRICE


def ns(iso: str) -> int:
    """ISO-8601 instant with offset -> ns since epoch."""
    return int(dt.datetime.fromisoformat(iso).timestamp()) * 1_000_000_000


def metadata(
    schema: d.Schema,
    symbols: dict[str, int],
    start: int,
    end: int,
    dataset: str = "GLBX.MDP3",
) -> d.Metadata:
    day0 = dt.datetime.fromtimestamp(start // 1_000_000_000, tz=dt.UTC).date()
    day1 = dt.datetime.fromtimestamp(end // 1_000_000_000, tz=dt.UTC).date() + dt.timedelta(days=1)
    mappings = [
        SimpleNamespace(
            raw_symbol=sym,
            intervals=[SimpleNamespace(start_date=day0, end_date=day1, symbol=str(iid))],
        )
        for sym, iid in sorted(symbols.items())
    ]
    return d.Metadata(
        dataset=dataset,
        start=start,
        stype_in=d.SType.RAW_SYMBOL,
        stype_out=d.SType.INSTRUMENT_ID,
        schema=schema,
        symbols=sorted(symbols),
        mappings=mappings,
        end=end,
    )


def write_dbn(path: Path, meta: d.Metadata, records: list, compress: bool = True) -> Path:
    body = meta.encode() + b"".join(bytes(r) for r in records)
    data = zstandard.ZstdCompressor(level=3).compress(body) if compress else body
    path.write_bytes(data)
    return path


def book_levels(bids: list[tuple[float, int]], asks: list[tuple[float, int]]) -> list:
    """Ten BidAskPairs from (price points, size) lists; missing levels are undefined."""
    out = []
    for i in range(10):
        bp, bs = bids[i] if i < len(bids) else (None, 0)
        ap, az = asks[i] if i < len(asks) else (None, 0)
        out.append(
            d.BidAskPair(
                bid_px=UNDEF if bp is None else int(round(bp * 4)) * (PX // 4),
                ask_px=UNDEF if ap is None else int(round(ap * 4)) * (PX // 4),
                bid_sz=bs,
                ask_sz=az,
                bid_ct=1 if bs else 0,
                ask_ct=1 if az else 0,
            )
        )
    return out


def mbp10(
    iid: int,
    ts: int,
    seq: int,
    action: str,
    side: str,
    price: float,
    size: int,
    bids: list[tuple[float, int]],
    asks: list[tuple[float, int]],
    flags: int = d.F_LAST,
) -> d.MBP10Msg:
    return d.MBP10Msg(
        publisher_id=1,
        instrument_id=iid,
        ts_event=ts - 1000,
        price=int(round(price * 4)) * (PX // 4),
        size=size,
        action=d.Action(action),
        side=d.Side(side),
        depth=0,
        ts_recv=ts,
        flags=flags,
        ts_in_delta=123,
        sequence=seq,
        levels=book_levels(bids, asks),
    )


def trade(iid: int, ts: int, seq: int, price: float, size: int, side: str) -> d.TradeMsg:
    return d.TradeMsg(
        publisher_id=1,
        instrument_id=iid,
        ts_event=ts - 1000,
        price=int(round(price * 100)) * (PX // 100),
        size=size,
        action=d.Action("T"),
        side=d.Side(side),
        depth=0,
        ts_recv=ts,
        flags=0,
        ts_in_delta=77,
        sequence=seq,
    )


def definition(
    iid: int,
    ts: int,
    raw_symbol: str,
    instrument_class: str,
    *,
    strike: float | None = None,
    expiration: int = 0,
    underlying: str = "",
    underlying_id: int = 0,
    asset: str = "ES",
) -> d.InstrumentDefMsg:
    return d.InstrumentDefMsg(
        publisher_id=1,
        instrument_id=iid,
        ts_event=ts - 5000,
        ts_recv=ts,
        min_price_increment=250_000_000 if instrument_class == "F" else UNDEF,
        display_factor=1_000_000_000,
        raw_symbol=raw_symbol,
        asset=asset,
        security_type="FUT" if instrument_class in ("F", "S") else "OOF",
        instrument_class=d.InstrumentClass(instrument_class),
        security_update_action=d.SecurityUpdateAction("A"),
        expiration=expiration,
        strike_price=UNDEF if strike is None else int(round(strike * PX)),
        unit_of_measure_qty=50 * PX,
        underlying=underlying,
        underlying_id=underlying_id,
        currency="USD",
        exchange="XCME",
        cfi="FFIXSX" if instrument_class == "F" else "OCXXXS",
    )
