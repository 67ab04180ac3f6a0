"""The synthetic session generator: real DBN bytes, a sane book, and the scripted episodes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import databento
import databento_dbn
import numpy as np
import pytest
import zstandard

from engines.physics import black76
from replay.sample import generate_session
from replay.sample import options as opt
from replay.sample.scenario import future_and_spread, quarterly_after, session_window

S = 1_000_000_000  # fixed-point units per index point
TICK = 250_000_000
DAY = "20251114"
UNDEF = np.iinfo(np.int64).max


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """22 minutes from 08:30 CT: long enough for all three episodes (the last ends at 1300 s)."""
    out = tmp_path_factory.mktemp("sample")
    return generate_session(out, minutes=22)


def _store(res, kind: str) -> databento.DBNStore:  # type: ignore[no-untyped-def]
    return databento.DBNStore.from_file(res.out_dir / f"glbx-mdp3-{DAY}.{kind}.dbn.zst")


def _raw_body(path: Path, dtype: np.dtype) -> np.ndarray:
    """Our own decode: zstd, skip the DBN header ('DBN', version, u32 length, metadata)."""
    raw = zstandard.ZstdDecompressor().stream_reader(path.read_bytes()).read()
    assert raw[:3] == b"DBN" and raw[3] == 3
    body = raw[8 + int.from_bytes(raw[4:8], "little") :]
    return np.frombuffer(body, dtype=dtype)


def _defs(res):  # type: ignore[no-untyped-def]
    return _store(res, "definition").to_ndarray()


# ------------------------------------------------------------------ files and DBN validity
def test_files_counts_and_episodes_json(sample) -> None:  # type: ignore[no-untyped-def]
    names = sorted(p.name for p in sample.files)
    assert names == sorted(
        f"glbx-mdp3-{DAY}.{k}.dbn.zst" for k in ("definition", "mbp-10", "trades", "opt-trades")
    )
    for p in sample.files:
        assert p.exists()
    # 1 outright + 1 spread + 41 strikes x 2 rights = 84 definitions
    assert sample.record_counts[f"glbx-mdp3-{DAY}.definition.dbn.zst"] == 84
    doc = json.loads(sample.episodes_path.read_text())
    assert [e["kind"] for e in doc] == ["wall_reject", "buy_sweep", "vacuum_break"]
    assert doc == [e.to_json() for e in sample.episodes]
    for e in doc:
        assert e["start_ns"] <= e["expected_time_ns"] <= e["end_ns"]
        assert set(e) >= {
            "kind",
            "level_px",
            "start_ns",
            "end_ns",
            "expected_signal",
            "expected_time_ns",
        }


def test_records_are_the_bytes_databento_dbn_builds(sample) -> None:  # type: ignore[no-untyped-def]
    mbp = _store(sample, "mbp-10").to_ndarray()
    for i in (0, 1, len(mbp) // 2, len(mbp) - 1):
        r = mbp[i]
        levels = [
            databento_dbn.BidAskPair(
                bid_px=int(r[f"bid_px_{j:02d}"]),
                ask_px=int(r[f"ask_px_{j:02d}"]),
                bid_sz=int(r[f"bid_sz_{j:02d}"]),
                ask_sz=int(r[f"ask_sz_{j:02d}"]),
                bid_ct=int(r[f"bid_ct_{j:02d}"]),
                ask_ct=int(r[f"ask_ct_{j:02d}"]),
            )
            for j in range(10)
        ]
        msg = databento_dbn.MBP10Msg(
            int(r["publisher_id"]),
            int(r["instrument_id"]),
            int(r["ts_event"]),
            int(r["price"]),
            int(r["size"]),
            databento_dbn.Action(r["action"].decode()),
            databento_dbn.Side(r["side"].decode()),
            int(r["depth"]),
            int(r["ts_recv"]),
            flags=int(r["flags"]),
            ts_in_delta=int(r["ts_in_delta"]),
            sequence=int(r["sequence"]),
            levels=levels,
        )
        assert bytes(msg) == r.tobytes()
    for kind in ("trades", "opt-trades"):
        trd = _store(sample, kind).to_ndarray()
        for r in trd[[0, len(trd) // 3, -1]]:
            msg = databento_dbn.TradeMsg(
                int(r["publisher_id"]),
                int(r["instrument_id"]),
                int(r["ts_event"]),
                int(r["price"]),
                int(r["size"]),
                databento_dbn.Action(r["action"].decode()),
                databento_dbn.Side(r["side"].decode()),
                int(r["depth"]),
                int(r["ts_recv"]),
                flags=int(r["flags"]),
                ts_in_delta=int(r["ts_in_delta"]),
                sequence=int(r["sequence"]),
            )
            assert bytes(msg) == r.tobytes()


def test_databento_reads_back_metadata_body_and_symbols(sample) -> None:  # type: ignore[no-untyped-def]
    fut, spr = future_and_spread(dt.date(2025, 11, 14))
    assert (fut.raw_symbol, spr.raw_symbol) == ("ESZ5", "ESZ5-ESH6")
    expected_schema = {
        "definition": databento_dbn.Schema.DEFINITION,
        "mbp-10": databento_dbn.Schema.MBP_10,
        "trades": databento_dbn.Schema.TRADES,
        "opt-trades": databento_dbn.Schema.TRADES,
    }
    defs = _defs(sample)
    sym_of = {
        int(i): s.decode() for i, s in zip(defs["instrument_id"], defs["raw_symbol"], strict=True)
    }
    for kind, schema in expected_schema.items():
        store = _store(sample, kind)
        md = store.metadata
        assert md.dataset == "GLBX.MDP3" and md.schema == schema and md.version == 3
        assert md.stype_out == databento_dbn.SType.INSTRUMENT_ID
        arr = store.to_ndarray()
        body = _raw_body(store._data_source.path, arr.dtype)  # what we wrote
        assert np.array_equal(arr, body)
        ids = sorted(set(arr["instrument_id"].tolist()))
        if kind in ("mbp-10", "trades"):
            assert ids == sorted([fut.instrument_id, spr.instrument_id])  # spread prints too
            assert sorted(md.symbols) == ["ESZ5", "ESZ5-ESH6"]
        for raw, intervals in md.mappings.items():
            assert intervals[0]["start_date"] == dt.date(2025, 11, 14)
            assert sym_of[int(intervals[0]["symbol"])] == raw
        df = store.to_df(map_symbols=True)
        assert len(df) == len(arr)
        got = dict(zip(df["instrument_id"].astype(int), df["symbol"], strict=True))
        assert got == {i: sym_of[i] for i in ids}


# ------------------------------------------------------------------ instruments
def test_definitions_match_real_glbx_conventions(sample) -> None:  # type: ignore[no-untyped-def]
    d = _defs(sample)
    f = d[d["instrument_class"] == b"F"][0]
    assert f["raw_symbol"] == b"ESZ5" and f["asset"] == b"ES"
    assert f["min_price_increment"] == TICK
    assert f["unit_of_measure_qty"] == 50 * S  # 50 in fixed point, as real definitions store it
    # ESZ5 expires 2025-12-19 08:30 CST = 14:30 UTC
    assert f["expiration"] == int(dt.datetime(2025, 12, 19, 14, 30, tzinfo=dt.UTC).timestamp()) * S
    s = d[d["instrument_class"] == b"S"][0]
    assert s["raw_symbol"] == b"ESZ5-ESH6"
    o = d[np.isin(d["instrument_class"], [b"C", b"P"])]
    assert len(o) == 82 and (o["instrument_class"] == b"C").sum() == 41
    assert np.all(o["strike_price"] % (5 * S) == 0)
    assert np.all(o["min_price_increment"] == UNDEF)
    assert np.all(o["underlying"] == b"ESZ5") and np.all(o["underlying_id"] == f["instrument_id"])
    # 0DTE: 2025-11-14 15:00 CST = 21:00 UTC
    assert np.all(
        o["expiration"] == int(dt.datetime(2025, 11, 14, 21, tzinfo=dt.UTC).timestamp()) * S
    )
    assert b"EW2X5 C6800" in set(o["raw_symbol"].tolist())
    assert len(set(d["instrument_id"].tolist())) == 84


def test_calendar_rules() -> None:
    assert quarterly_after(dt.date(2025, 11, 14))[0] == "ESZ5"
    # ESZ5 expires Fri 2025-12-19; the roll is 8 days earlier (Thu 12-11): from then on ESH6
    assert quarterly_after(dt.date(2025, 12, 10))[0] == "ESZ5"
    assert quarterly_after(dt.date(2025, 12, 11))[0] == "ESH6"
    assert opt.option_root(dt.date(2025, 11, 14)) == "EW2X5"  # second Friday
    assert opt.option_root(dt.date(2025, 11, 21)) == "EWX5"  # third Friday: monthly EW
    assert opt.option_root(dt.date(2025, 11, 19)) == "E3CX5"  # third Wednesday
    # a 17:00 start belongs to the eve: 2025-11-13 17:00 CST = 23:00 UTC
    s0, s1 = session_window(dt.date(2025, 11, 14), "17:00", 1380)
    assert s0 == int(dt.datetime(2025, 11, 13, 23, tzinfo=dt.UTC).timestamp()) * S
    assert s1 - s0 == 1380 * 60 * S


def test_option_premium_is_black76_rounded_against_the_aggressor() -> None:
    # F = K = 6800, T = 6 h = 6/8760 y, sigma = 0.15 (ATM: m = 0, so the smile adds nothing).
    # ATM Black-76 = F·(2N(sd/2) − 1), sd = 0.15·sqrt(6/8760) = 0.0039258 -> 6800·0.0015661
    # ≈ 10.649 points: ≥ 5 so the tick is 0.25; a buyer pays 10.75, a seller gets 10.50.
    t = np.array([6 / 8760])
    f = np.array([6800.0])
    theo = black76.price(f, f, t, np.array([0.15]), 0.0, True)[0]
    assert theo == pytest.approx(10.649, abs=0.002)
    buy = opt.premium_units(f, f, t, np.array([True]), np.array([ord("B")]), 0.15)
    sell = opt.premium_units(f, f, t, np.array([True]), np.array([ord("A")]), 0.15)
    assert (int(buy[0]), int(sell[0])) == (10_750_000_000, 10_500_000_000)
    # deep OTM put K = 6700: small premium, 0.05 tick; the smile makes it richer than flat vol
    k = np.array([6700.0])
    p = opt.premium_units(f, k, t, np.array([False]), np.array([ord("N")]), 0.15)
    flat = black76.price(f, k, t, np.array([0.15]), 0.0, False)[0]
    assert p[0] % 50_000_000 == 0 and p[0] / S > flat


# ------------------------------------------------------------------ the book
def _fut(sample):  # type: ignore[no-untyped-def]
    mbp = _store(sample, "mbp-10").to_ndarray()
    fid = int(_defs(sample)["instrument_id"][_defs(sample)["instrument_class"] == b"F"][0])
    return mbp, fid


def _book(a: np.ndarray, side: str, kind: str) -> np.ndarray:
    return np.stack([a[f"{side}_{kind}_{i:02d}"].astype(np.int64) for i in range(10)], axis=1)


def test_book_invariants(sample) -> None:  # type: ignore[no-untyped-def]
    mbp, fid = _fut(sample)
    assert np.all(np.diff(mbp["sequence"].astype(np.int64)) > 0)
    assert np.all(np.diff(mbp["ts_recv"].astype(np.int64)) >= 0)
    lat = mbp["ts_recv"].astype(np.int64) - mbp["ts_event"].astype(np.int64)
    assert lat.min() > 0 and lat.max() < 2_000_000  # a feed latency below 2 ms
    f = mbp[mbp["instrument_id"] == fid]
    bpx, apx = _book(f, "bid", "px"), _book(f, "ask", "px")
    assert np.all(_book(f, "bid", "sz") > 0) and np.all(_book(f, "ask", "sz") > 0)
    assert np.all(np.diff(bpx, axis=1) == -TICK) and np.all(np.diff(apx, axis=1) == TICK)
    assert np.all(bpx[:, 0] < apx[:, 0])  # never crossed or locked
    assert np.all(bpx % TICK == 0)
    assert bpx[:, 0].min() > 6500 * S and bpx[:, 0].max() < 7100 * S
    actions = set(f["action"].tolist())
    assert actions == {b"A", b"C", b"M", b"T"}
    is_t = f["action"] == b"T"
    last = (f["flags"] & 128) != 0
    assert not np.any(last & is_t)  # T records never carry F_LAST
    # every event ends with F_LAST: the record after a non-F_LAST one has the same ts_event
    nxt = np.flatnonzero(~last)
    assert np.all(f["ts_event"][nxt + 1] == f["ts_event"][nxt])
    assert last[-1]


def test_each_record_changes_the_book_by_its_own_size(sample) -> None:  # type: ignore[no-untyped-def]
    mbp, fid = _fut(sample)
    f = mbp[mbp["instrument_id"] == fid]
    prev, cur = f[:-1], f[1:]
    for side, code in (("bid", b"B"), ("ask", b"A")):
        px_p, sz_p = _book(prev, side, "px"), _book(prev, side, "sz")
        px_c, sz_c = _book(cur, side, "px"), _book(cur, side, "sz")
        p = cur["price"].astype(np.int64)[:, None]
        before = np.where(px_p == p, sz_p, 0).sum(1)
        after = np.where(px_c == p, sz_c, 0).sum(1)
        q = cur["size"].astype(np.int64)
        on = cur["side"] == code
        # an add of q at p raises p's size by q; a cancel lowers it by q; M changes it by q
        add = on & (cur["action"] == b"A")
        assert np.all(after[add] - before[add] == q[add])
        can = on & (cur["action"] == b"C")
        assert np.all(before[can] - after[can] == q[can])
        mod = on & (cur["action"] == b"M")
        assert np.all(np.abs(after[mod] - before[mod]) == q[mod])
    t = cur["action"] == b"T"
    assert np.array_equal(_book(cur[t], "bid", "sz"), _book(prev[t], "bid", "sz"))
    assert np.array_equal(_book(cur[t], "ask", "px"), _book(prev[t], "ask", "px"))


def test_trades_match_mbp_t_records_at_the_touch(sample) -> None:  # type: ignore[no-untyped-def]
    mbp, _ = _fut(sample)
    trd = _store(sample, "trades").to_ndarray()
    t_rec = mbp[mbp["action"] == b"T"]
    assert len(trd) == len(t_rec)
    for k in ("ts_recv", "ts_event", "sequence", "price", "size", "side", "instrument_id"):
        assert np.array_equal(trd[k], t_rec[k])
    assert set(trd["side"].tolist()) == {b"A", b"B"}
    # the first print of each event is at the touch: buy at the best ask, sell at the best bid
    pos = np.flatnonzero(mbp["action"] == b"T")
    first = pos[mbp["depth"][pos] == 0]
    buy = mbp["side"][first] == b"B"
    assert np.all(mbp["price"][first][buy] == mbp["ask_px_00"][first][buy])
    assert np.all(mbp["price"][first][~buy] == mbp["bid_px_00"][first][~buy])
    ratio = len(trd) / len(mbp)
    assert 0.1 < ratio < 0.2


def test_option_trades_priced_off_the_mid(sample) -> None:  # type: ignore[no-untyped-def]
    d = _defs(sample)
    o = _store(sample, "opt-trades").to_ndarray()
    sides = {k: int((o["side"] == k).sum()) for k in (b"A", b"B", b"N")}
    assert sides[b"A"] > 0 and sides[b"B"] > 0 and 0 < sides[b"N"] < sides[b"A"]
    assert np.all(np.diff(o["sequence"].astype(np.int64)) > 0)
    assert np.all(np.diff(o["ts_recv"].astype(np.int64)) >= 0)
    strike = dict(zip(d["instrument_id"].tolist(), (d["strike_price"] / S).tolist(), strict=True))
    is_call = dict(
        zip(d["instrument_id"].tolist(), (d["instrument_class"] == b"C").tolist(), strict=True)
    )
    mbp, fid = _fut(sample)
    f = mbp[(mbp["instrument_id"] == fid) & ((mbp["flags"] & 128) != 0)]
    i = np.searchsorted(f["ts_recv"], o["ts_event"], side="right") - 1
    mid = (f["bid_px_00"][i] + f["ask_px_00"][i]) / 2 / S
    k = np.array([strike[x] for x in o["instrument_id"].tolist()])
    c = np.array([is_call[x] for x in o["instrument_id"].tolist()])
    t = int(d["expiration"][d["instrument_class"] == b"C"][0]) - o["ts_recv"].astype(np.float64)
    iv, ok = black76.implied_vol(o["price"] / S, mid, k, t / black76.NS_PER_YEAR, 0.0, c)
    assert ok.all()
    near = np.abs(k - mid) <= 25  # near the money the tick is small against the premium
    assert 0.10 < np.median(iv[near]) < 0.22


# ------------------------------------------------------------------ episodes
def _bid_zone_flow(f: np.ndarray, trades: np.ndarray, level: int, t_end: int):  # type: ignore[no-untyped-def]
    """SPEC §5.1/§5.2 barrier flow on the bid zone L ± 2 ticks over (t_end − 240 s, t_end]."""
    ts = f["ts_recv"].astype(np.int64)
    w = (ts > t_end - 240 * S) & (ts <= t_end)
    bpx, bsz = _book(f, "bid", "px"), _book(f, "bid", "sz")
    added = removed_tot = filled = 0
    for p in range(level - 2 * TICK, level + 2 * TICK + 1, TICK):
        sz = np.where(bpx == p, bsz, 0).sum(1)
        vis = bpx[:, 9] <= p
        both = vis[1:] & vis[:-1] & w[1:]
        d = np.where(both, np.diff(sz), 0)
        added += int(np.maximum(d, 0).sum())
        # filled per price and 250 ms bucket
        bucket = (ts[1:] + 249_999_999) // 250_000_000
        rem = np.maximum(-d, 0)
        tt = trades["ts_recv"].astype(np.int64)
        m = (trades["price"] == p) & (trades["side"] == b"A") & (tt > t_end - 240 * S)
        m &= tt <= t_end
        tb = (tt[m] + 249_999_999) // 250_000_000
        for b in np.unique(bucket[rem > 0]):
            r = int(rem[bucket == b].sum())
            filled += min(r, int(trades["size"][m][tb == b].sum()))
        removed_tot += int(rem.sum())
    canceled = removed_tot - filled
    return added, canceled, filled


def _dealer_gamma(sample, level: int, at_ns: int, spot: float) -> float:  # type: ignore[no-untyped-def]
    """SPEC §5.4: Σ position·Γ over strikes within 15 points, IV solved from each trade."""
    d = _defs(sample)
    o = _store(sample, "opt-trades").to_ndarray()
    o = o[o["ts_recv"] <= at_ns]
    mbp, fid = _fut(sample)
    f = mbp[(mbp["instrument_id"] == fid) & ((mbp["flags"] & 128) != 0)]
    i = np.searchsorted(f["ts_recv"], o["ts_recv"], side="right") - 1
    mid = (f["bid_px_00"][i] + f["ask_px_00"][i]) / 2 / S
    info = {
        int(r["instrument_id"]): (
            r["strike_price"] / S,
            r["instrument_class"] == b"C",
            int(r["expiration"]),
        )
        for r in d
    }
    k = np.array([info[int(x)][0] for x in o["instrument_id"]])
    c = np.array([info[int(x)][1] for x in o["instrument_id"]])
    exp = info[int(o["instrument_id"][0])][2]
    iv, ok = black76.implied_vol(
        o["price"] / S, mid, k, (exp - o["ts_recv"]) / black76.NS_PER_YEAR, 0.0, c
    )
    total = 0.0
    for inst in sorted(set(o["instrument_id"].tolist())):
        m = o["instrument_id"] == inst
        if abs(info[inst][0] - level / S) > 15:
            continue
        sign = np.where(o["side"][m] == b"A", 1, np.where(o["side"][m] == b"B", -1, 0))
        pos = int((sign * o["size"][m].astype(np.int64)).sum())
        sigma = iv[m][ok[m]][-1]
        g = black76.gamma(spot, info[inst][0], (exp - at_ns) / black76.NS_PER_YEAR, sigma)[0]
        total += pos * g
    return total


def _episode(sample, kind: str) -> dict:  # type: ignore[no-untyped-def]
    return next(e.to_json() for e in sample.episodes if e.kind == kind)


def _spot(trades: np.ndarray, at_ns: int) -> int:
    return int(trades["price"][np.searchsorted(trades["ts_recv"], at_ns, side="right") - 1])


def test_wall_reject_episode(sample) -> None:  # type: ignore[no-untyped-def]
    e = _episode(sample, "wall_reject")
    level, t = e["level_px"], e["expected_time_ns"]
    assert level % (10 * S) == 0
    mbp, fid = _fut(sample)
    f = mbp[mbp["instrument_id"] == fid]
    trd = _store(sample, "trades").to_ndarray()
    trd = trd[trd["instrument_id"] == fid]
    # price touches within one point from above, then bounces away by > 2.5 points
    spot = _spot(trd, t)
    assert level < spot <= level + S
    later = trd["price"][(trd["ts_recv"] > t) & (trd["ts_recv"] < e["end_ns"] + 120 * S)]
    assert later.max() > level + 2.5 * S
    before = trd[(trd["ts_recv"] > e["start_ns"]) & (trd["ts_recv"] <= t)]
    assert before["price"].min() > level  # approached from above, never through
    added, canceled, filled = _bid_zone_flow(f, trd, level, t)
    # WALL: added − canceled − filled > 100 and added / (canceled + filled + 1) > 1.5
    assert added - canceled - filled > 100
    assert added / (canceled + filled + 1) > 1.5
    # DAMPEN: dealers long gamma at the level (customers sold options there)
    assert _dealer_gamma(sample, level, t, spot / S) > 25


def test_vacuum_break_episode(sample) -> None:  # type: ignore[no-untyped-def]
    e = _episode(sample, "vacuum_break")
    level, t = e["level_px"], e["expected_time_ns"]
    assert level % (10 * S) == 0
    mbp, fid = _fut(sample)
    f = mbp[mbp["instrument_id"] == fid]
    trd = _store(sample, "trades").to_ndarray()
    trd = trd[trd["instrument_id"] == fid]
    spot = _spot(trd, t)
    assert level < spot <= level + S  # still above the level (SUPPORT) when BREAK should latch
    added, canceled, filled = _bid_zone_flow(f, trd, level, t)
    # VACUUM: canceled > 100 + added, ratio < 0.3, and pulled rather than eaten
    assert canceled > 100 + added
    assert added / (canceled + filled + 1) < 0.3
    # ... and only since the fast pull 4 s before the first sweep: 1 s before the pull the zone had
    # no flow at all in its 240 s window (held from 1000 s, its depth built out of view), so the
    # barrier read NEUTRAL (0 − 0 − 0 is not < −100) and the level could not BREAK earlier.
    assert _bid_zone_flow(f, trd, level, e["first_sweep_ts_recv"] - 5 * S) == (0, 0, 0)
    assert filled < canceled
    assert _dealer_gamma(sample, level, t, spot / S) < -25  # AMPLIFY
    # the break: one sell sweep through the level, ≥ 100 lots at ≥ 2 prices
    sw = trd[trd["ts_recv"] == e["break_sweep_ts_recv"]]
    assert set(sw["side"].tolist()) == {b"A"}
    assert sw["size"].sum() >= 100 and len(set(sw["price"].tolist())) >= 2
    assert sw["price"].max() > level - S and sw["price"].min() < level
    # the first sweep (3.25 s before the expected BREAK) ended at L + 0.5 inside the tape band
    assert e["first_sweep_last_px"] == level + 2 * TICK
    first = trd[trd["ts_recv"] == e["first_sweep_ts_recv"]]
    assert first["size"].sum() == e["first_sweep_size"] >= 100
    assert set(first["side"].tolist()) == {b"A"} and first["price"].min() == level + 2 * TICK
    # nothing trades between the two sweeps: spot stays at L + 0.5 until the break
    between = (trd["ts_recv"] > e["first_sweep_ts_recv"]) & (
        trd["ts_recv"] < e["break_sweep_ts_recv"]
    )
    assert not between.any()


def test_buy_sweep_episode(sample) -> None:  # type: ignore[no-untyped-def]
    e = _episode(sample, "buy_sweep")
    trd = _store(sample, "trades").to_ndarray()
    sw = trd[trd["ts_recv"] == e["sweep_ts_recv"]]
    assert set(sw["side"].tolist()) == {b"B"}
    assert sw["size"].sum() == e["sweep_size"] >= 100
    prices = sorted(set(sw["price"].tolist()))
    assert len(prices) == e["sweep_prices"] >= 3
    assert np.all(np.diff(prices) == TICK)  # one print per consecutive ask level
    assert (prices[0], prices[-1]) == (e["sweep_first_px"], e["sweep_last_px"])


# ------------------------------------------------------------------ determinism and options
def _digests(d: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir())}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a = generate_session(tmp_path / "a", minutes=3, seed=11)
    b = generate_session(tmp_path / "b", minutes=3, seed=11)
    generate_session(tmp_path / "c", minutes=3, seed=12)
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    assert len(_digests(tmp_path / "a")) == 5  # 4 DBN files + episodes.json
    da, dc = _digests(tmp_path / "a"), _digests(tmp_path / "c")
    assert da[f"glbx-mdp3-{DAY}.mbp-10.dbn.zst"] != dc[f"glbx-mdp3-{DAY}.mbp-10.dbn.zst"]
    assert a.record_counts == b.record_counts and a.episodes == b.episodes == ()


def test_days_skip_the_weekend_and_intensity_scales(tmp_path: Path) -> None:
    r = generate_session(tmp_path / "d", minutes=2, days=2, intensity=2.0)
    assert r.trade_dates == ("2025-11-14", "2025-11-17")  # Friday, then Monday
    names = {p.name for p in r.files}
    assert f"glbx-mdp3-{DAY}.mbp-10.dbn.zst" in names
    assert "glbx-mdp3-20251117.mbp-10.dbn.zst" in names
    one = generate_session(tmp_path / "e", minutes=2, intensity=1.0)
    n2 = r.record_counts[f"glbx-mdp3-{DAY}.mbp-10.dbn.zst"]
    n1 = one.record_counts[f"glbx-mdp3-{DAY}.mbp-10.dbn.zst"]
    assert 1.6 < n2 / n1 < 2.5  # twice the event rate, give or take the random regimes
