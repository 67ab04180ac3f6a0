"""The Gold contract: one table of columns (``gold_columns``), each enum named by the
physics module that owns it, and the column blocks both engines deliver (``rows``).

May import: engines.contract, engines.physics.
Never imported by: engines.jit, engines.contract, engines.state, engines.physics.
"""
