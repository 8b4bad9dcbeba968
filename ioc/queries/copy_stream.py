"""A `COPY … TO STDOUT` streamed as it is produced, in bounded memory, and stopped when its reader goes.

A thread runs the COPY (psycopg2's `copy_expert`, which waits for each row with the GIL released) on
a connection of its own from the pool; rows are gathered into chunks of about `chunk_bytes` and
handed to the reader (the HTTP response) in order. At most `depth` chunks wait in memory; when the
reader is slower than the database (a client on a slow line: usual for a large file), the next ones
wait in a temporary file. So a 1,000,000-row file holds about `depth + 1` chunks in memory, and the
connection goes back to the pool when PostgreSQL has written the last row (a second or two for a
leader's month), not when a slow client has read it: sixteen slow downloads must not hold the pool's
fifteen connections.

Closing the iterator (the client went away, the response was closed) cancels the COPY on the server
if it still runs (`connection.cancel()`, only while this thread holds the connection), the rows
already on their way are read and dropped, and the connection goes back to the pool as any other
whose statement failed (rolled back, not invalidated).

COPY ends each row with `\\n`; the exports end them with `\\r\\n` (as `csv.writer` did, and Excel
expects), which :func:`crlf` makes of whole rows, leaving newlines inside quoted values as they are.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections import deque
from collections.abc import Iterator
from typing import IO, Any

from psycopg2 import errors
from sqlalchemy import Engine

CHUNK_BYTES = 1 << 16
DEPTH = 8
#: how long closing waits for the thread to give its connection back
STOP_TIMEOUT = 10.0
_END = object()


def crlf(rows: bytes) -> bytes:
    """Whole CSV rows ending in `\\n` made to end in `\\r\\n`. A newline between an odd and an even
    quote (counted from the start of a row) is inside a quoted value and stays: quotes inside a value
    are doubled, so the count's parity says whether a position is inside one."""
    if b'"' not in rows:
        return rows.replace(b"\n", b"\r\n")
    pieces = rows.split(b'"')
    pieces[::2] = [piece.replace(b"\n", b"\r\n") for piece in pieces[::2]]
    return b'"'.join(pieces)


class _Handover:
    """Chunks from one writer to one reader, in order, never blocking the writer: up to `depth` in
    memory, the others in a temporary file (the queue holds their lengths; the file is written and
    read at separate offsets). Also carries the end (`_END`) or the writer's error."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.ready = threading.Condition()
        self.closed = False
        self._queue: deque[Any] = deque()
        self._in_memory = 0
        self._spill: IO[bytes] | None = None
        self._written = 0
        self._read = 0

    def put(self, chunk: bytes) -> None:
        with self.ready:
            if self.closed:
                return
            if self._in_memory < self.depth:
                self._in_memory += 1
                self._queue.append(chunk)
                self.ready.notify()
                return
        if self._spill is None:
            self._spill = tempfile.TemporaryFile(prefix="ioc-export-")  # noqa: SIM115 - closed by close()
        done = 0
        while done < len(chunk):
            done += os.pwrite(self._spill.fileno(), chunk[done:], self._written + done)
        self._written += len(chunk)
        self.end(len(chunk))

    def end(self, item: object) -> None:
        """Queue `item` as it is (the end, an error, a spilled chunk's length)."""
        with self.ready:
            self._queue.append(item)
            self.ready.notify()

    def take(self) -> Any:
        with self.ready:
            while not self._queue:
                self.ready.wait()
            item = self._queue.popleft()
            if isinstance(item, bytes):
                self._in_memory -= 1
        if isinstance(item, int):
            assert self._spill is not None
            data = b""
            while len(data) < item:
                data += os.pread(self._spill.fileno(), item - len(data), self._read + len(data))
            self._read += item
            return data
        return item

    def close(self, writer_done: bool) -> None:
        """No more chunks are wanted; the file is closed once the writer cannot write to it."""
        with self.ready:
            self.closed = True
            self._queue.clear()
        if writer_done and self._spill is not None:
            self._spill.close()


class CopyStream:
    """Iterate for the bytes of `COPY … TO STDOUT` (`sql`) as `\\r\\n`-ended rows; `rows` says how many
    rows went into the stream (COPY's own count once `complete`)."""

    def __init__(self, engine: Engine, sql: bytes, *, chunk_bytes: int = CHUNK_BYTES, depth: int = DEPTH):
        self.engine = engine
        self.sql = sql
        self.chunk_bytes = chunk_bytes
        self.rows = 0
        self.complete = False
        self._parts: list[bytes] = []
        self._size = 0
        self._handover = _Handover(depth)
        self._dropping = False
        self._copying: Any = None  # the DBAPI connection while its COPY runs
        self._holding = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="copy-stream", daemon=True)

    # ------------------------------------------------------------------ the reader's side

    def __iter__(self) -> Iterator[bytes]:
        self._thread.start()
        try:
            while True:
                item = self._handover.take()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.close()

    def close(self) -> None:
        """Stop the COPY if it still runs and wait (a while) for the connection to go back."""
        self._handover.close(writer_done=False)
        self._cancel()
        if self._thread.is_alive():
            self._thread.join(STOP_TIMEOUT)
        self._handover.close(writer_done=not self._thread.is_alive())

    def _cancel(self) -> None:
        with self._holding:  # never another request's statement: only while this COPY holds it
            if self._copying is not None:
                self._copying.cancel()

    # ------------------------------------------------------------------ the thread's side

    def _run(self) -> None:
        try:
            with self.engine.connect() as connection:
                raw = connection.connection.driver_connection
                assert raw is not None
                with self._holding:
                    if self._handover.closed:
                        return
                    self._copying = raw
                try:
                    with raw.cursor() as cursor:
                        cursor.copy_expert(self.sql, self)
                        rows = cursor.rowcount
                finally:
                    with self._holding:
                        self._copying = None
            self._flush()
            self.rows, self.complete = rows, True
            self._handover.end(_END)
        except errors.QueryCanceled as error:
            self._handover.end(_END if self._handover.closed else error)
        except BaseException as error:  # the reader raises it
            self._handover.end(error)

    def write(self, row: bytes) -> None:
        """`copy_expert`'s sink: called once for every row (libpq hands COPY data over a row at a time)."""
        if self._handover.closed:  # dropping what was on its way; cancelled again from within the
            if not self._dropping:  # COPY, in case close()'s cancel reached the server before it began
                self._dropping = True
                self._cancel()
            return
        self._parts.append(row)
        self._size += len(row)
        if self._size >= self.chunk_bytes:
            self._flush()

    def _flush(self) -> None:
        if self._parts:
            self.rows += len(self._parts)
            self._handover.put(crlf(b"".join(self._parts)))
            self._parts.clear()
            self._size = 0
