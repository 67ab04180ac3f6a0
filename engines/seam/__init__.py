"""The seam every mode drives: ``SessionSetup``, the ``SessionEngine`` protocol (feed merged
chunks, close snaps at a watermark, finish), ``RowSink`` and the snap clock.

May import: engines.contract, engines.state, engines.columns.
Never imported by: engines.jit, engines.contract, engines.state, engines.physics, engines.columns.
"""
