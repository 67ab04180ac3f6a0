"""NautilusTrader no-op replay of one session's MBP-10 + trades DBN (run by the nautilus venv only).

Not imported by the project: `scripts/bench_peers.py` runs it with
`.bench/nautilus-venv/bin/python`.

    nautilus_noop.py DEFINITION_DBN MBP10_DBN TRADES_DBN [--symbol ESZ5]

Loads the three files with `DatabentoDataLoader` (definitions first so prices get their
precision), keeps the one ES outright, adds a GLBX venue (margin account, USD, L2 book), the
instrument, the OrderBookDepth10 and TradeTick lists, and a strategy that subscribes to both and
does nothing; runs the BacktestEngine; prints one JSON line (counts, load and run seconds,
events/s over the run, peak RSS).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from decimal import Decimal

import nautilus_trader
from nautilus_trader.adapters.databento.loaders import DatabentoDataLoader
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.config import BacktestEngineConfig, LoggingConfig, StrategyConfig
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import OrderBookDepth10, TradeTick
from nautilus_trader.model.enums import AccountType, BookType, OmsType
from nautilus_trader.model.identifiers import InstrumentId, Venue
from nautilus_trader.model.objects import Money
from nautilus_trader.trading.strategy import Strategy


class NoopConfig(StrategyConfig, frozen=True):
    instrument_id: InstrumentId


class Noop(Strategy):
    """Subscribes to depth and trades of one instrument and only counts the callbacks."""

    def __init__(self, config: NoopConfig) -> None:
        super().__init__(config)
        self.n_depth = 0
        self.n_trades = 0

    def on_start(self) -> None:
        iid = self.config.instrument_id
        self.subscribe_order_book_depth(iid, book_type=BookType.L2_MBP, depth=10)
        self.subscribe_trade_ticks(iid)

    def on_order_book_depth(self, depth: OrderBookDepth10) -> None:
        self.n_depth += 1

    def on_trade_tick(self, tick: TradeTick) -> None:
        self.n_trades += 1


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("definition")
    ap.add_argument("mbp10")
    ap.add_argument("trades")
    ap.add_argument("--symbol", default="ESZ5")
    args = ap.parse_args()

    t0 = time.perf_counter()
    loader = DatabentoDataLoader()
    instruments = loader.from_dbn_file(args.definition)
    inst = next(i for i in instruments if i.id.symbol.value == args.symbol)
    iid = inst.id
    depth = [d for d in loader.from_dbn_file(args.mbp10) if d.instrument_id == iid]
    trades = [t for t in loader.from_dbn_file(args.trades) if t.instrument_id == iid]
    t_decode = time.perf_counter() - t0
    rss_decoded = rss_mb()

    engine = BacktestEngine(
        BacktestEngineConfig(
            trader_id="BENCH-001",
            logging=LoggingConfig(log_level="ERROR"),
            run_analysis=False,
        )
    )
    engine.add_venue(
        venue=Venue(iid.venue.value),
        oms_type=OmsType.NETTING,
        account_type=AccountType.MARGIN,
        base_currency=USD,
        starting_balances=[Money(1_000_000, USD)],
        default_leverage=Decimal(1),
        book_type=BookType.L2_MBP,
    )
    engine.add_instrument(inst)
    n_depth, n_trades = len(depth), len(trades)
    engine.add_data(depth)
    engine.add_data(trades)
    del depth, trades
    strategy = Noop(NoopConfig(instrument_id=iid))
    engine.add_strategy(strategy)
    t_load = time.perf_counter() - t0

    t1 = time.perf_counter()
    engine.run()
    t_run = time.perf_counter() - t1
    result = engine.get_result()
    events = n_depth + n_trades
    out = {
        "engine": "nautilus_trader",
        "version": nautilus_trader.__version__,
        "python": sys.version.split()[0],
        "instrument": str(iid),
        "depth10": n_depth,
        "trades": n_trades,
        "events": events,
        "depth_callbacks": strategy.n_depth,
        "trade_callbacks": strategy.n_trades,
        "iterations": result.iterations,
        "decode_s": t_decode,
        "load_s": t_load,
        "run_s": t_run,
        "events_per_s": events / t_run,
        "rss_after_decode_mb": rss_decoded,
        "peak_rss_mb": rss_mb(),
    }
    engine.dispose()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
