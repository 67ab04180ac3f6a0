"""A deterministic synthetic ES session written as real DBN v3 (zstd): ``generate_session``.

Layout: everything goes flat into ``out_dir``; file names carry the CME trade date, so several
sessions (``days > 1``, weekends skipped) sit side by side:

    glbx-mdp3-YYYYMMDD.definition.dbn.zst   ESxx outright (F), ESxx-ESyy spread (S), 0DTE C/P
    glbx-mdp3-YYYYMMDD.mbp-10.dbn.zst       outright + spread depth (one sequence, one clock)
    glbx-mdp3-YYYYMMDD.trades.dbn.zst       outright + spread trades (same ts_recv/sequence as
                                             the MBP-10 ``T`` records)
    glbx-mdp3-YYYYMMDD.opt-trades.dbn.zst   0DTE option trades (schema trades)
    episodes.json                           the scripted episodes of every session written

With ``schema="mbo"`` the outright and spread depth and trades are written instead as one MBO
file, ``glbx-mdp3-YYYYMMDD.mbo.dbn.zst``: the order actions of the same books and prints
(``mbo_orders.py``), so the two schemas of one seed describe the same market.

Same seed and arguments ⇒ byte-identical files: one ``Generator(PCG64(seed))`` drives everything
in a fixed order and the compressor is single-threaded at a fixed level. Memory stays bounded: the
session is simulated and written in 30-second chunks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import databento_dbn
import numpy as np

from replay.sample import book_sim as bs
from replay.sample import options as opt
from replay.sample.dbn_writer import (
    DEFINITION_DTYPE,
    MBO_DTYPE,
    MBP10_DTYPE,
    TRADE_DTYPE,
    DbnWriter,
    build_metadata,
)
from replay.sample.mbo_orders import OrderFlow
from replay.sample.scenario import (
    GRID,
    NS,
    PRICE_SCALE,
    SPREAD_GRID,
    SPREAD_TICK_UNITS,
    TICK_UNITS,
    Episode,
    SessionPlan,
    build_plan,
    finalize_episodes,
    future_definitions,
    trading_dates,
)

__all__ = ["Episode", "SampleResult", "generate_session"]

CHUNK_NS = 30 * NS
SCHEMAS = ("mbp-10", "mbo")
DEPTH_CAP = 131_072
TRADE_CAP = 65_536


@dataclass(frozen=True)
class SampleResult:
    """What ``generate_session`` wrote: files (in write order), records per file, episodes."""

    out_dir: Path
    files: tuple[Path, ...]
    record_counts: dict[str, int]
    episodes: tuple[Episode, ...]
    episodes_path: Path
    trade_dates: tuple[str, ...]


def generate_session(
    out_dir: Path,
    *,
    seed: int = 7,
    minutes: int = 30,
    start: str = "08:30",
    date: str = "2025-11-14",
    days: int = 1,
    intensity: float = 1.0,
    schema: str = "mbp-10",
) -> SampleResult:
    """Write ``days`` synthetic sessions of ``minutes`` from ``start`` (CT) into ``out_dir``;
    the futures depth as ``schema`` ``mbp-10`` (with a trades file) or ``mbo``."""
    if days < 1:
        raise ValueError(f"days {days}: expected >= 1")
    if schema not in SCHEMAS:
        raise ValueError(f"schema {schema!r}: expected one of {', '.join(SCHEMAS)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.Generator(np.random.PCG64(seed))
    open_pts = 6800.0 + float(rng.normal(0.0, 4.0))
    files: list[Path] = []
    counts: dict[str, int] = {}
    episodes: list[Episode] = []
    dates = trading_dates(dt.date.fromisoformat(date), days)
    for trade_date in dates:
        sigma_atm = 0.15 + float(rng.normal(0.0, 0.01))
        plan = build_plan(rng, trade_date, start, minutes, intensity, open_pts)
        written, eps, open_pts = _write_session(rng, out_dir, plan, sigma_atm, schema)
        for path, n in written:
            files.append(path)
            counts[path.name] = n
        episodes.extend(eps)
    ep_path = out_dir / "episodes.json"
    doc = [e.to_json() for e in episodes]
    ep_path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return SampleResult(
        out_dir, tuple(files), counts, tuple(episodes), ep_path, tuple(d.isoformat() for d in dates)
    )


def _write_session(
    rng: np.random.Generator, out_dir: Path, plan: SessionPlan, sigma_atm: float, schema: str
) -> tuple[list[tuple[Path, int]], tuple[Episode, ...], float]:
    """Simulate one session chunk by chunk; returns files, episodes and the closing mid."""
    chain = opt.build_chain(plan.trade_date, plan.open_px, plan.future, sigma_atm)
    stem = f"glbx-mdp3-{plan.trade_date:%Y%m%d}"
    fut, spr = plan.future, plan.spread
    book_syms = [(fut.raw_symbol, fut.instrument_id), (spr.raw_symbol, spr.instrument_id)]
    opt_syms = list(zip(chain.raw_symbol, (int(i) for i in chain.instrument_id), strict=True))

    def meta(schema: databento_dbn.Schema, syms: list[tuple[str, int]]) -> databento_dbn.Metadata:
        return build_metadata(
            schema=schema, start_ns=plan.start_ns, end_ns=plan.end_ns, instruments=syms
        )

    defs_path = out_dir / f"{stem}.definition.dbn.zst"
    with DbnWriter(
        defs_path, meta(databento_dbn.Schema.DEFINITION, book_syms + opt_syms), DEFINITION_DTYPE
    ) as w:
        ts_def = plan.start_ns - 1800 * NS
        w.write(future_definitions(plan, ts_def, plan.start_ns))
        w.write(opt.definition_records(chain, ts_def, plan.start_ns))
        n_defs = w.count

    fut_book = bs.init_book(rng, GRID, GRID // 2 - 1, 0.02)
    spr_book = bs.init_book(rng, SPREAD_GRID, SPREAD_GRID // 2 - 1, 0.0)
    st = np.zeros(bs.ST_SIZE, np.int64)
    st[bs.ST_T_NEXT] = plan.start_ns + int(rng.integers(1, 20_000_000))
    st[bs.ST_SEQ] = 1_000_000 + int(rng.integers(0, 9_000_000))
    st[bs.ST_LAST_RECV] = plan.start_ns
    st[bs.ST_LAST_EVENT] = plan.start_ns
    st[bs.ST_FUT_BB], st[bs.ST_FUT_BA] = GRID // 2 - 1, GRID // 2
    st[bs.ST_SPR_BB], st[bs.ST_SPR_BA] = SPREAD_GRID // 2 - 1, SPREAD_GRID // 2
    st[bs.ST_SPR_MID] = SPREAD_GRID // 2
    bases = np.array([plan.grid_base, plan.spread_base], np.int64)
    ticks = np.array([TICK_UNITS, SPREAD_TICK_UNITS], np.int64)
    insts = np.array([fut.instrument_id, spr.instrument_id], np.int64)
    sweep_out = np.zeros((plan.sweeps.shape[0], 5), np.int64)
    buf = bs.DepthBuffers.allocate(DEPTH_CAP, TRADE_CAP)

    scripted = [opt.scripted_trades(rng, chain, f) for f in plan.option_flows]
    scripted_all = np.concatenate([np.zeros((0, 4), np.int64), *scripted])
    opt_seq = 2_000_000 + int(rng.integers(0, 9_000_000))
    last_mid = plan.open_px / PRICE_SCALE
    opt_last_recv = plan.start_ns

    paths = {
        "mbp": out_dir / f"{stem}.mbp-10.dbn.zst",
        "trd": out_dir / f"{stem}.trades.dbn.zst",
        "opt": out_dir / f"{stem}.opt-trades.dbn.zst",
        "mbo": out_dir / f"{stem}.mbo.dbn.zst",
    }
    mbo = schema == "mbo"
    flow = OrderFlow(insts, bases, ticks, (GRID, SPREAD_GRID)) if mbo else None
    depth_out = (
        DbnWriter(paths["mbo"], meta(databento_dbn.Schema.MBO, book_syms), MBO_DTYPE)
        if mbo
        else DbnWriter(paths["mbp"], meta(databento_dbn.Schema.MBP_10, book_syms), MBP10_DTYPE)
    )
    trades_out = (
        None
        if mbo
        else DbnWriter(paths["trd"], meta(databento_dbn.Schema.TRADES, book_syms), TRADE_DTYPE)
    )
    with (
        depth_out as wm,
        trades_out or contextlib.nullcontext() as wt,
        DbnWriter(paths["opt"], meta(databento_dbn.Schema.TRADES, opt_syms), TRADE_DTYPE) as wo,
    ):
        for c0 in range(plan.start_ns, plan.end_ns, CHUNK_NS):
            c1 = min(c0 + CHUNK_NS, plan.end_ns)
            mid_ts: list[np.ndarray] = []
            mid_px: list[np.ndarray] = []
            while True:
                nd, nt = bs.run_kernel(
                    rng,
                    st,
                    fut_book,
                    spr_book,
                    bases,
                    ticks,
                    insts,
                    plan.sched_f,
                    plan.sched_i,
                    plan.start_ns,
                    c1,
                    plan.sweeps,
                    sweep_out,
                    buf.i8,
                    buf.u1,
                    buf.lv,
                    buf.t_i8,
                    buf.t_u1,
                )
                depth = bs.depth_records(buf, nd)
                if flow is not None:
                    wm.write(flow.convert(depth))  # the trades are in it, as T records
                else:
                    wm.write(depth)
                    wt.write(bs.trade_records(buf, nt))
                ts, mid = _futures_mids(depth, fut.instrument_id)
                mid_ts.append(ts)
                mid_px.append(mid)
                k = int(st[bs.ST_SWEEP_K])
                pending = k < plan.sweeps.shape[0] and plan.sweeps[k, bs.SW_T] < c1
                if st[bs.ST_T_NEXT] >= c1 and not pending:
                    break
            ts_all = np.concatenate(mid_ts)
            px_all = np.concatenate(mid_px)
            recs, last_mid = _option_chunk(
                rng,
                chain,
                plan,
                scripted_all,
                c0,
                c1,
                ts_all,
                px_all,
                last_mid,
                opt_seq,
                opt_last_recv,
            )
            wo.write(recs)
            opt_seq += recs.shape[0]
            if recs.shape[0]:
                opt_last_recv = int(recs["ts_recv"][-1])
    written = [(defs_path, n_defs), (wm.path, wm.count)]
    written += [] if wt is None else [(wt.path, wt.count)]
    written.append((paths["opt"], wo.count))
    close = 0.5 * (st[bs.ST_FUT_BB] + st[bs.ST_FUT_BA]) * TICK_UNITS + plan.grid_base
    return written, finalize_episodes(plan, sweep_out), close / PRICE_SCALE


def _futures_mids(depth: np.ndarray, fut_id: int) -> tuple[np.ndarray, np.ndarray]:
    """(ts_recv, mid in points) after every F_LAST record of the outright."""
    m = (depth["instrument_id"] == fut_id) & ((depth["flags"] & bs.F_LAST) != 0)
    mid = (depth["bid_px_00"][m] + depth["ask_px_00"][m]) / 2 / PRICE_SCALE
    return depth["ts_recv"][m].astype(np.int64), mid


def _option_chunk(
    rng: np.random.Generator,
    chain: opt.OptionChain,
    plan: SessionPlan,
    scripted: np.ndarray,
    c0: int,
    c1: int,
    mid_ts: np.ndarray,
    mid_px: np.ndarray,
    last_mid: float,
    seq0: int,
    last_recv: int,
) -> tuple[np.ndarray, float]:
    """Option trades of [c0, c1): background plus scripted, priced off the mid at each print."""
    s0 = (c0 - plan.start_ns) // NS
    s1 = (c1 - plan.start_ns + NS - 1) // NS
    sec_starts = c0 + np.arange(s1 - s0, dtype=np.int64) * NS

    def mid_at(ts: np.ndarray) -> np.ndarray:
        i = np.searchsorted(mid_ts, ts, side="right") - 1
        return np.where(i >= 0, mid_px[np.maximum(i, 0)], last_mid)

    bg = opt.background_trades(rng, chain, c0, plan.option_rate[s0:s1], mid_at(sec_starts))
    bg = bg[bg[:, 0] < c1]
    sc = scripted[(scripted[:, 0] >= c0) & (scripted[:, 0] < c1)]
    trades = np.concatenate([bg, sc])
    trades = trades[np.lexsort((trades[:, 3], trades[:, 2], trades[:, 1], trades[:, 0]))]
    recs = opt.trade_records(rng, chain, trades, mid_at(trades[:, 0]), seq0, last_recv)
    new_mid = float(mid_px[-1]) if mid_px.shape[0] else last_mid
    return recs, new_mid
