"""The outcome rules of SPEC §10.1 on hand-worked trade paths, and the block-skipping search
against a plain scan of every trade."""

from __future__ import annotations

import numpy as np
import pytest

from replay.labels.outcomes import BLOCK, label_rows
from replay.labels.schema import OUTCOMES

U = 1_000_000_000  # one index point, and one second, in int64 units
L = 6800 * U
B = 2 * U  # barrier 2.0 points
RES, SUP = 1, -1


def _label(path: list[tuple[float, float]], level: int, spot: int, side: int, horizons_s, end_s):
    """One row at T = 0 s; ``path`` = [(seconds, price in points)]."""
    ts = np.array([int(round(s * U)) for s, _ in path], np.int64)
    px = np.array([int(round(p * 4)) * (U // 4) for _, p in path], np.int64)
    o = label_rows(
        ts,
        px,
        np.array([0]),
        np.array([level]),
        np.array([spot]),
        np.array([side]),
        tuple(h * U for h in horizons_s),
        B,
        int(end_s * U),
    )
    return [
        {
            "outcome": OUTCOMES[o.code[j]],
            "t_hit_ms": None if np.isnan(o.t_hit_ms[j]) else float(o.t_hit_ms[j]),
            "mfe": float(o.mfe_pts[j]),
            "mae": float(o.mae_pts[j]),
            "fwd": float(o.fwd_ret_pts[j]),
            "end_s": o.label_end_ns[j] / U,
        }
        for j in range(len(horizons_s))
    ]


def test_a_rise_through_resistance_breaks_at_the_first_trade_two_points_beyond() -> None:
    # L = 6800 RESISTANCE, spot 6799.50: trades 6800.00 @1 s, 6801.75 @2 s (1.75 < 2: no),
    # 6802.00 @3 s (6802 − 6800 = 2.0 >= 2.0: BREAK), 6803 @4 s
    path = [(1, 6800.0), (2, 6801.75), (3, 6802.0), (4, 6803.0)]
    (r,) = _label(path, L, L - U // 2, RES, [30], 100)
    assert r["outcome"] == "BREAK" and r["t_hit_ms"] == 3000.0 and r["end_s"] == 3.0
    # MFE over the whole window: 6803 − 6799.50 = 3.5; MAE: no trade below 6799.50 -> 0;
    # forward return: last trade 6803 − 6799.50 = 3.5
    assert (r["mfe"], r["mae"], r["fwd"]) == (3.5, 0.0, 3.5)


def test_a_bounce_off_resistance_is_a_reject() -> None:
    # RESISTANCE 6800, spot 6799.75; price touches 6800, falls to 6798.00 = L − 2.0 at 5 s
    path = [(1, 6800.0), (2, 6799.0), (5, 6798.0), (6, 6797.5)]
    (r,) = _label(path, L, L - U // 4, RES, [30], 100)
    assert r["outcome"] == "REJECT" and r["t_hit_ms"] == 5000.0
    # MFE: 6800 − 6799.75 = 0.25; MAE: 6799.75 − 6797.5 = 2.25; fwd: 6797.5 − 6799.75 = −2.25
    assert (r["mfe"], r["mae"], r["fwd"]) == (0.25, 2.25, -2.25)


def test_support_mirrors_resistance() -> None:
    # SUPPORT 6800 (d = −1), spot 6800.50: 6798.00 at 2 s is d·(px − L) = −(−2.0) = 2.0: BREAK
    (r,) = _label([(1, 6801.0), (2, 6798.0)], L, L + U // 2, SUP, [30], 100)
    assert r["outcome"] == "BREAK" and r["t_hit_ms"] == 2000.0
    # MFE for d = −1: max(S − px) = 6800.5 − 6798 = 2.5; MAE: max(px − S) = 6801 − 6800.5 = 0.5
    assert (r["mfe"], r["mae"], r["fwd"]) == (2.5, 0.5, 2.5)


def test_a_race_goes_to_the_barrier_hit_first_by_one_trade() -> None:
    # REJECT barrier 6798 at 2.000 s, BREAK barrier 6802 at 2.001 s: the earlier trade decides
    path = [(2.0, 6798.0), (2.001, 6802.0)]
    (r,) = _label(path, L, L, RES, [30], 100)
    assert r["outcome"] == "REJECT" and r["t_hit_ms"] == 2000.0
    swapped = [(2.0, 6802.0), (2.001, 6798.0)]
    assert _label(swapped, L, L, RES, [30], 100)[0]["outcome"] == "BREAK"


def test_a_quiet_window_times_out_and_a_session_ending_inside_it_is_censored() -> None:
    path = [(1, 6800.25), (20, 6799.75)]  # never 2 points away
    # the session's last market record at 30 s = T + H exactly: TIMEOUT; label_end = T + H
    (r,) = _label(path, L, L, RES, [30], 30)
    assert r["outcome"] == "TIMEOUT" and r["t_hit_ms"] is None and r["end_s"] == 30.0
    # one nanosecond earlier the session ended inside the horizon: CENSORED
    (r,) = _label(path, L, L, RES, [30], 30 - 1e-9)
    assert r["outcome"] == "CENSORED" and r["end_s"] == 30.0
    # fwd: the last window trade 6799.75 − 6800 = −0.25; mfe 0.25, mae 0.25
    assert (r["mfe"], r["mae"], r["fwd"]) == (0.25, 0.25, -0.25)


def test_a_row_two_points_away_is_far_with_null_figures() -> None:
    # RESISTANCE 6800 with spot 6798.00: d·(L − S) = 2.0 >= b -> FAR, label_end = T
    (r,) = _label([(1, 6802.0)], L, L - 2 * U, RES, [30], 100)
    assert r["outcome"] == "FAR" and r["end_s"] == 0.0 and r["t_hit_ms"] is None
    assert np.isnan(r["mfe"]) and np.isnan(r["mae"]) and np.isnan(r["fwd"])
    # 1.75 points away is not FAR
    assert _label([(1, 6802.0)], L, L - 7 * U // 4, RES, [30], 100)[0]["outcome"] == "BREAK"


def test_a_trade_at_t_is_excluded_and_one_at_t_plus_h_included() -> None:
    # the 6802 print at T = 0 is what the snap saw: not in the window. The 6798 print at exactly
    # T + 30 s is: REJECT at 30 000 ms for the 30 s horizon
    (r,) = _label([(0, 6802.0), (30, 6798.0)], L, L, RES, [30], 100)
    assert r["outcome"] == "REJECT" and r["t_hit_ms"] == 30_000.0
    assert r["mfe"] == 0.0  # the print at T does not count for MFE either


def test_each_horizon_sees_its_own_window() -> None:
    # one row, horizons 30 and 60: the deciding 6802 print at 45 s is in the 60 s window only
    path = [(10, 6801.0), (45, 6802.0), (50, 6799.0)]
    r30, r60 = _label(path, L, L, RES, [30, 60], 100)
    assert r30["outcome"] == "TIMEOUT" and r30["fwd"] == 1.0 and r30["end_s"] == 30.0
    assert r60["outcome"] == "BREAK" and r60["t_hit_ms"] == 45_000.0 and r60["end_s"] == 45.0
    # the 60 s window's figures run over all of it, past the hit: mfe 2.0, mae 1.0, fwd −1.0
    assert (r60["mfe"], r60["mae"], r60["fwd"]) == (2.0, 1.0, -1.0)
    # a window without a trade: every figure 0.0
    (r,) = _label([(100, 6800.0)], L, L, RES, [30], 200)
    assert (r["outcome"], r["mfe"], r["mae"], r["fwd"]) == ("TIMEOUT", 0.0, 0.0, 0.0)


def _oracle(ts, px, t, lvl, spot, side, horizons, b, end):
    """Every rule of §10.1 as a plain loop over every trade."""
    out = []
    for i in range(t.shape[0]):
        for h in horizons:
            w = [(int(ts[k]), int(px[k])) for k in range(ts.shape[0]) if t[i] < ts[k] <= t[i] + h]
            d, L_, S = int(side[i]), int(lvl[i]), int(spot[i])
            if d * (L_ - S) >= b:
                out.append(("FAR", None, None, None, int(t[i])))
                continue
            hit = next(((k, p) for k, p in w if abs(p - L_) >= b), None)
            ex = [d * (p - S) for _, p in w]
            mfe = max([0, *ex]) / 1e9
            mae = max([0, *[-x for x in ex]]) / 1e9
            if hit is not None:
                code = "BREAK" if d * (hit[1] - L_) >= b else "REJECT"
                out.append((code, (hit[0] - int(t[i])) / 1e6, mfe, mae, hit[0]))
            else:
                code = "TIMEOUT" if end >= t[i] + h else "CENSORED"
                out.append((code, None, mfe, mae, int(t[i]) + h))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_block_search_equals_a_scan_of_every_trade(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 40 * BLOCK + 7  # blocks skipped whole, and a short last block
    ts = np.cumsum(rng.integers(1, 400_000_000, n))
    px = L + np.cumsum(rng.integers(-1, 2, n)) * (U // 4)
    m = 60
    t = np.sort(rng.integers(0, int(ts[-1]), m))
    t[5] = t[4]  # two rows of one snap share its window
    spot = L + rng.integers(-12, 13, m) * (U // 4)
    lvl = spot + rng.integers(-10, 11, m) * (U // 4)
    side = np.where(lvl >= spot, 1, -1)
    hz = (5 * U, 30 * U, 120 * U)
    end = int(ts[-1]) - 10 * U
    o = label_rows(ts, px, t, lvl, spot, side, hz, B, end)
    got = [
        (
            OUTCOMES[o.code[k]],
            None if np.isnan(o.t_hit_ms[k]) else o.t_hit_ms[k],
            None if np.isnan(o.mfe_pts[k]) else o.mfe_pts[k],
            None if np.isnan(o.mae_pts[k]) else o.mae_pts[k],
            int(o.label_end_ns[k]),
        )
        for k in range(m * len(hz))
    ]
    assert got == _oracle(ts, px, t, lvl, spot, side, hz, B, end)
    assert {g[0] for g in got} >= {"BREAK", "REJECT", "TIMEOUT", "FAR"}
