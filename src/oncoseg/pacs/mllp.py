"""MLLP listener for HL7 v2 notes, and a sender for result messages.

MLLP frames each message as ``<VT> message <FS><CR>`` over one TCP connection; the receiver
answers every frame with an ACK in the same framing. :class:`MllpListener` (asyncio,
loopback by default) reads frames with :class:`Framer`, parses each with
:func:`oncoseg.pacs.hl7.read_note_message`, stores the de-identified note in a
:class:`~oncoseg.pacs.notes_store.NoteStore`, and answers AA, or AE/AR with the reason
(MSA-3, ERR). A frame growing past the size cap is answered AR as soon as its end arrives
and its bytes are dropped as they come (never held in memory); a connection closed in the
middle of a frame stores nothing. Logs name a note by its store key (a hash) only.

Example:
    >>> with ListenerThread(NoteStore(tmp)) as listener:  # doctest: +SKIP
    ...     ack = send_message("127.0.0.1", listener.port, mdm_text)
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from dataclasses import dataclass, field

from oncoseg.pacs.hl7 import (
    ERR_INTERNAL,
    MAX_BYTES,
    FieldMap,
    Refusal,
    build_ack,
    read_note_message,
)
from oncoseg.pacs.notes_store import NoteStore

log = logging.getLogger(__name__)
SB, EB, CR = b"\x0b", b"\x1c", b"\x0d"
HEAD = 2048  # bytes of an oversized frame kept to read its MSH-10 for the ACK


@dataclass
class Frame:
    """One received frame: its bytes, or its head and total size when it was over the cap."""

    data: bytes
    oversize: int = 0


@dataclass
class Framer:
    """Splits a byte stream into MLLP frames, dropping what lies outside ``<VT>...<FS><CR>``."""

    max_bytes: int = MAX_BYTES
    _buf: bytearray = field(default_factory=bytearray)
    _dropping: int = 0  # > 0: inside an oversized frame, bytes dropped so far
    _head: bytes = b""

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        out: list[Frame] = []
        while True:
            if self._dropping:
                end = self._buf.find(EB + CR)
                if end < 0:
                    keep = 1 if self._buf.endswith(EB) else 0  # FS now, CR in the next read
                    self._dropping += len(self._buf) - keep
                    del self._buf[: len(self._buf) - keep]
                    return out
                out.append(Frame(self._head, self._dropping + end))
                del self._buf[: end + 2]
                self._dropping, self._head = 0, b""
                continue
            start = self._buf.find(SB)
            if start < 0:
                self._buf.clear()
                return out
            del self._buf[:start]
            end = self._buf.find(EB + CR)
            if end >= 0:
                out.append(Frame(bytes(self._buf[1:end])))
                del self._buf[: end + 2]
                continue
            if len(self._buf) - 1 > self.max_bytes:
                self._head = bytes(self._buf[1 : 1 + HEAD])
                self._dropping = len(self._buf) - 1
                self._buf.clear()
            return out

    @property
    def pending(self) -> int:
        """Bytes of an unfinished frame."""
        return self._dropping or len(self._buf)


class MllpListener:
    """Receives HL7 v2 note messages and stores their notes (see the module docstring)."""

    def __init__(
        self,
        store: NoteStore,
        *,
        max_bytes: int = MAX_BYTES,
        idle_timeout: float = 300.0,
        fields: FieldMap | None = None,
    ) -> None:
        self.store, self.max_bytes, self.idle_timeout = store, max_bytes, idle_timeout
        self.fields = fields or FieldMap()
        self.counts: dict[str, int] = {"AA": 0, "AE": 0, "AR": 0, "cut": 0}

    def handle(self, frame: Frame) -> bytes:
        """The ACK (bytes, unframed) for one frame; stores the note when it is accepted."""
        raw = frame.data
        try:
            if frame.oversize:
                raise Refusal(
                    "AR",
                    ERR_INTERNAL,
                    f"message of {frame.oversize} bytes is over the cap of {self.max_bytes} bytes",
                )
            msg = read_note_message(raw, self.fields, self.max_bytes)
            record = self.store.put(
                msg.text,
                source="hl7",
                mrn=msg.mrn,
                accession=msg.accession,
                date=msg.date,
                identifiers=msg.identifiers,
            )
        except Refusal as exc:
            self.counts[exc.code] += 1
            log.warning("HL7 message refused (%s, ERR %s): %s", exc.code, exc.err, exc.reason)
            return build_ack(raw, exc.code, exc.reason, exc.err, exc.control_id).encode()
        except (OSError, ValueError) as exc:
            self.counts["AE"] += 1
            log.error("HL7 note not stored: %s", type(exc).__name__)
            return build_ack(raw, "AE", "the note could not be stored", ERR_INTERNAL).encode()
        self.counts["AA"] += 1
        log.info(
            "stored %s note %s (%d replacements)",
            msg.message_type,
            record.key[:16],
            record.redactions,
        )
        return build_ack(raw, "AA").encode()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        framer = Framer(self.max_bytes)
        try:
            while True:
                data = await asyncio.wait_for(reader.read(65536), self.idle_timeout)
                if not data:
                    break
                for frame in framer.feed(data):
                    writer.write(SB + self.handle(frame) + EB + CR)
                    await writer.drain()
        except (asyncio.TimeoutError, ConnectionError):
            pass
        finally:
            if framer.pending:
                self.counts["cut"] += 1
                log.warning(
                    "connection closed inside a frame (%d bytes): nothing stored", framer.pending
                )
            writer.close()

    async def serve(
        self, host: str = "127.0.0.1", port: int = 2575, started: threading.Event | None = None
    ) -> None:
        """Listen until cancelled; sets ``self.port`` (useful with ``port=0``)."""
        server = await asyncio.start_server(self._connection, host, port)
        self.port = int(server.sockets[0].getsockname()[1])
        log.info("MLLP listener on %s:%d", host, self.port)
        if started is not None:
            started.set()
        async with server:
            await server.serve_forever()


class ListenerThread:
    """An :class:`MllpListener` on a background thread (tests, or beside the watcher)."""

    def __init__(
        self, store: NoteStore, host: str = "127.0.0.1", port: int = 0, **kwargs: object
    ) -> None:
        self.listener = MllpListener(store, **kwargs)  # type: ignore[arg-type]
        self.host, self._port = host, port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = threading.Event()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._task = self._loop.create_task(
            self.listener.serve(self.host, self._port, self._started)
        )
        try:
            self._loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        finally:  # open connections end with the listener
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.close()

    @property
    def port(self) -> int:
        return self.listener.port

    def __enter__(self) -> ListenerThread:
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("the MLLP listener did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(10)


def send_message(host: str, port: int, message: str | bytes, timeout: float = 30.0) -> str:
    """Send one HL7 message over MLLP and return the ACK's text (for result messages)."""
    data = message.encode("utf-8") if isinstance(message, str) else message
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(SB + data + EB + CR)
        framer, frames = Framer(), list[Frame]()
        while not frames:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"{host}:{port} closed the connection without an ACK")
            frames = framer.feed(chunk)
    return frames[0].data.decode("utf-8", "replace")
