"""The fast engine: the same arithmetic in one numba kernel call per chunk (``snap_kernel``,
``snap_levels``), its slot codes and packing, and the decoding of its slots into rows.

May import: engines.jit, engines.contract, engines.state, engines.physics, engines.columns,
engines.seam, engines.reference.
Never imported by: engines.jit, engines.contract, engines.state, engines.physics, engines.columns,
engines.seam, engines.reference.
"""
