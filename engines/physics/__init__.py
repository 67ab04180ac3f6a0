"""One module per engine of SPEC §5 (barrier, tape, fuel with Black-76, score, trigger,
smoothing, level universe, room to run): pure functions of config, state and arrays, each with
its reference arithmetic.

May import: engines.jit, engines.contract, engines.state.
Never imported by: engines.jit, engines.contract, engines.state.
"""
