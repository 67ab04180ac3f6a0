"""The inputs every engine reads: the event batches and merged chunks (``events``) and
the one frozen config of SPEC §5 (``config``).

May import: nothing outside engines.contract.
Never imported by: engines.jit.
"""
