"""What a session remembers between snaps: the primary future's market state (book,
trades, ring buffers of every window, sweeps: ``market_state`` over ``layout``, ``depth_fold``,
``trade_fold`` and ``windows``) and the session context (levels of the day).

May import: engines.jit, engines.contract.
Never imported by: engines.jit, engines.contract.
"""
