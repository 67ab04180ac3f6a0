"""The reference engine: the physics level by level in Python through the signal service;
the readable definition and the oracle the fast engine is tested against.

May import: engines.jit, engines.contract, engines.state, engines.physics, engines.columns,
engines.seam.
Never imported by: engines.jit, engines.contract, engines.state, engines.physics, engines.columns,
engines.seam.
"""
