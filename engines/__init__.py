"""Pure physics engines of levelreplay.

Arrays and explicit state in, arrays and frozen dataclasses out; no I/O, clock or globals.
"""
