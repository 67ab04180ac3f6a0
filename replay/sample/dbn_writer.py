"""Write DBN v3 files (zstd) from numpy structured arrays, streaming, with reproducible bytes.

The header is ``databento_dbn.Metadata(...).encode()`` and the body is the raw bytes of arrays
whose dtype is exactly ``databento_dbn.<Msg>._dtypes`` (the C layout of DBN v3 records), so what we
write is what Databento writes and what ``databento.DBNStore`` reads. Compression is one zstd
frame at a fixed level, single-threaded, fed in the same order every run: same records, same bytes.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import databento_dbn
import numpy as np
import zstandard

MBP10_DTYPE = np.dtype(databento_dbn.MBP10Msg._dtypes)
TRADE_DTYPE = np.dtype(databento_dbn.TradeMsg._dtypes)
DEFINITION_DTYPE = np.dtype(databento_dbn.InstrumentDefMsg._dtypes)
MBO_DTYPE = np.dtype(databento_dbn.MBOMsg._dtypes)

RTYPE_MBP10 = 10
RTYPE_TRADE = 0
RTYPE_DEFINITION = 19
RTYPE_MBO = 160
PUBLISHER_GLBX = 1  # GLBX.MDP3 on CME Globex
DATASET = "GLBX.MDP3"
ZSTD_LEVEL = 3

_RTYPES = {
    MBP10_DTYPE: RTYPE_MBP10,
    TRADE_DTYPE: RTYPE_TRADE,
    DEFINITION_DTYPE: RTYPE_DEFINITION,
    MBO_DTYPE: RTYPE_MBO,
}


@dataclass(frozen=True)
class MappingInterval:
    """One raw-symbol → instrument-id interval (the ``databento_dbn.MappingInterval`` protocol)."""

    start_date: dt.date
    end_date: dt.date
    symbol: str


@dataclass(frozen=True)
class SymbolMapping:
    """Mappings of one raw symbol (the ``databento_dbn.SymbolMapping`` protocol)."""

    raw_symbol: str
    intervals: tuple[MappingInterval, ...]


def empty_records(dtype: np.dtype, n: int) -> np.ndarray:
    """Zeroed records of ``dtype`` with the header (length, rtype, publisher) already filled."""
    out = np.zeros(n, dtype=dtype)
    out["length"] = dtype.itemsize // 4
    out["rtype"] = _RTYPES[dtype]
    out["publisher_id"] = PUBLISHER_GLBX
    return out


def build_metadata(
    *,
    schema: databento_dbn.Schema,
    start_ns: int,
    end_ns: int,
    instruments: Sequence[tuple[str, int]],
) -> databento_dbn.Metadata:
    """Metadata whose symbology maps every (raw_symbol, instrument_id) over the UTC dates spanned.

    Databento maps ids to symbols per UTC date of ``ts_recv``; intervals are [start, end) dates,
    so they run from the start's date to the day after the end's date.
    """
    d0 = dt.datetime.fromtimestamp(start_ns // 1_000_000_000, tz=dt.UTC).date()
    d1 = dt.datetime.fromtimestamp(end_ns // 1_000_000_000, tz=dt.UTC).date() + dt.timedelta(1)
    ordered = sorted(instruments)
    mappings = [SymbolMapping(raw, (MappingInterval(d0, d1, str(iid)),)) for raw, iid in ordered]
    return databento_dbn.Metadata(
        dataset=DATASET,
        start=int(start_ns),
        stype_in=databento_dbn.SType.RAW_SYMBOL,
        stype_out=databento_dbn.SType.INSTRUMENT_ID,
        schema=schema,
        symbols=[raw for raw, _ in ordered],
        mappings=mappings,
        end=int(end_ns),
    )


class DbnWriter:
    """Streams records into ``path`` (written as ``path.tmp`` then renamed, so a crash leaves no
    half file under the final name). Holds no records itself: memory is the caller's chunk."""

    def __init__(self, path: Path, metadata: databento_dbn.Metadata, dtype: np.dtype) -> None:
        self.path = Path(path)
        self.dtype = dtype
        self.count = 0
        self._tmp = self.path.with_name(self.path.name + ".tmp")
        self._fh = open(self._tmp, "wb")  # noqa: SIM115 - closed in close()
        cctx = zstandard.ZstdCompressor(
            level=ZSTD_LEVEL, threads=0, write_checksum=False, write_content_size=False
        )
        self._zw = cctx.stream_writer(self._fh, closefd=False)
        self._zw.write(metadata.encode())

    def write(self, records: np.ndarray) -> None:
        """Append records (dtype must be exactly this file's record layout)."""
        if records.dtype != self.dtype:
            raise TypeError(f"{self.path.name}: records dtype {records.dtype} is not the DBN one")
        if records.shape[0]:
            self._zw.write(np.ascontiguousarray(records).tobytes())
            self.count += int(records.shape[0])

    def close(self) -> None:
        """Finish the zstd frame, fsync and move into place."""
        self._zw.flush(zstandard.FLUSH_FRAME)
        self._zw.close()
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        os.replace(self._tmp, self.path)

    def __enter__(self) -> DbnWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self._zw.close()
            self._fh.close()
            self._tmp.unlink(missing_ok=True)
