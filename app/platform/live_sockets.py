"""What an open live connection costs the pages process on gevent, made smaller.

Under ``gunicorn --worker-class gevent`` every agent's tab holds a WebSocket, and
the pages process keeps, per connection, what python-engineio and simple-websocket
build for it. Measured with tracemalloc and greenlet counts at 200 signed-in
agents (benchmarks/agents.py), the libraries as they come cost about 85 KiB a
connection, most of it four greenlets that are started and then wait: each
waiting greenlet keeps its slice of the C stack copied to the heap (2.5–6 KiB
here) and a 16 KiB chunk of Python frame stack of its own (a page or two
resident), about 8 KiB even with nothing on it. The four are gunicorn's greenlet
serving the WebSocket request, simple-websocket's reader, engine.io's writer and
engine.io's ping task, which sleeps the 25 s between two pings.

Three of those four need not wait on gevent, and :func:`install` changes that for
the gevent server only (threads keep the libraries' own way), leaving one
waiting greenlet a connection: measured the same way, 58 KiB a connection.

- The reader (~9 KiB): simple-websocket reads the socket in a thread of its own
  and hands each message to the request's thread through a list and an event,
  as threads must. A greenlet can read the socket itself when engine.io asks for
  the next message (:class:`InlineWebSocket`), so the request's greenlet does.
- The ping task (~7 KiB): a greenlet asleep for the whole interval. A timer that
  starts a greenlet only when the ping is due (``gevent.spawn_later``) costs
  about 1 KiB (:class:`LeanSocket`).
- The writer (~8 KiB): it waits on the socket's queue for the connection's whole
  life. Now a packet is written from gevent's loop as soon as the greenlet that
  queued it yields, as far as the socket takes it at once
  (:meth:`LeanSocket._write_soon`, never waiting, and cheaper in CPU than waking a
  writer); only a browser that reads too slowly gets a writer greenlet
  (:meth:`LeanSocket._write`), until its queue is sent.
  So a slow browser still holds up only its own writer, never the live queues'
  flusher nor a handler, and one writer at a time empties a queue, in order.

engine.io makes its sockets itself (``socket.Socket(self, sid)`` in
``engineio.server``, with no way to name a class), and Flask-SocketIO makes the
engine.io server; so the socket is given :class:`LeanSocket` in the connect
event, which engine.io triggers after making the socket and before scheduling
its first ping or serving its WebSocket. Written against python-engineio 4.x and
simple-websocket 1.x; tests/platform/test_live_sockets.py fails if either moves
what this relies on.
"""

from __future__ import annotations

import time

import gevent
import gevent.event
import simple_websocket
from engineio import exceptions, packet
from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI
from engineio.socket import Socket
from gevent.queue import Empty as QueueEmpty
from gevent.queue import JoinableQueue
from wsproto.events import Message, TextMessage
from wsproto.utilities import LocalProtocolError


def install(server) -> None:
    """Make ``server``'s (a python-socketio server's) connections cheaper on gevent."""
    eio = server.eio
    if eio.async_mode != "gevent":
        return
    # A copy: the driver's dict is shared by every engine.io server of the process.
    eio._async = {**eio._async, "websocket": InlineWebSocketWSGI, "queue": WakingQueue}
    connect = eio.handlers["connect"]

    def connect_lean(eio_sid, environ):
        # engine.io made the socket just before this event, and schedules its first
        # ping and serves its WebSocket just after.
        socket = eio.sockets.get(eio_sid)
        if type(socket) is Socket:
            socket.__class__ = LeanSocket
        return connect(eio_sid, environ)

    eio.handlers["connect"] = connect_lean


# What LeanSocket._take answers when no packet is queued (None is a packet: close).
_NOTHING = object()


class WakingQueue(JoinableQueue):
    """gevent's queue of a socket's packets, which tells the socket when one is put
    (:class:`LeanSocket` starts its writer then)."""

    on_put = None

    def put(self, item, block=True, timeout=None):
        super().put(item, block, timeout)
        if self.on_put is not None:
            self.on_put()


_SCHEDULED = object()  # LeanSocket._writer while its write callback is due


class LeanSocket(Socket):
    """engine.io's socket with no greenlet waiting while nothing happens.

    - Pinged from a timer instead of a greenlet asleep for the interval.
    - Over a WebSocket, written from gevent's loop once its packets are queued,
      without waiting (:meth:`_write_soon`), by a writer greenlet only while the socket cannot take
      more (:meth:`_write`), instead of a writer waiting on the queue for the
      connection's whole life.
    """

    _ws = None
    _writer = None
    _writer_done = None  # what the reading greenlet waits on for the last write
    _ws_done = False  # the WebSocket was closed: what is still put is dropped

    def schedule_ping(self):
        # As Socket.schedule_ping: a new ping once the client answered the last one.
        if self.last_ping:
            self.last_ping = None
            gevent.spawn_later(self.server.ping_interval, self._ping_now)

    def _ping_now(self):
        # Socket._send_ping without its sleep: the timer did the waiting.
        if not self.closing and not self.closed:
            self.last_ping = time.time()
            self.send(packet.Packet(packet.PING))

    def _websocket_handler(self, ws):
        if self.connected or not isinstance(self.queue, WakingQueue):
            # An upgrade from long-polling (a browser whose WebSocket failed first)
            # goes the library's way, writer and all.
            return super()._websocket_handler(ws)
        # Socket._websocket_handler for a connection that starts on a WebSocket,
        # with the writer started on demand; engine.io's comments are left out.
        self.connected = True
        self.upgraded = True
        self._ws = ws
        self.queue.on_put = self._write_soon
        self._write_soon()  # the open packet, queued before the WebSocket was served
        while True:
            try:
                data = ws.wait()
                if data and len(data) > self.server.max_http_buffer_size:
                    raise ValueError("packet is too large")
            except Exception as e:
                if not self.closed:
                    self.server.logger.info(
                        '%s: Unexpected error "%s", closing connection', self.sid, str(e)
                    )
                break
            if data is None:
                break  # closed by the client
            try:
                self.receive(packet.Packet(encoded_packet=data))
            except exceptions.UnknownPacketError:
                pass
            except exceptions.SocketIsClosedError:
                self.server.logger.info("Receive error -- socket is closed")
                break
            except Exception:
                self.server.logger.exception("Unknown receive error")
                break
        self.queue.put(None)  # the writer closes the WebSocket once the queue is sent
        if self._writer is not None:
            self._writer_done = gevent.event.Event()
            self._writer_done.wait()
        self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)
        return []

    def _write_soon(self):
        """Have what is queued written by gevent's loop as soon as the greenlet that
        queued it yields: a callback, not a greenlet, so it costs no stack and ~0.1 µs.

        The callback (:meth:`_write_now`) writes as far as the socket takes at once
        (gevent's ``timeout=0.0``) and never waits; a writer greenlet does the rest.
        So the caller (the live queues' flusher, a handler) never waits for a
        browser, its frames to every connection go out once it has queued them all,
        as with engine.io's writers, and nothing else writes in between. Measured on
        the pages process alone (200 agents, 20 events a second): p95 from the Redis
        publish to every agent 106–107 ms against 107–109 with engine.io's writers,
        pages CPU 0.6–0.7 s a round against 1.0–1.1 s. Writing inline in the caller
        instead was ~5 ms slower at p95; a new greenlet per frame cost ~10 µs a send.
        """
        if self._writer is not None or self._ws is None:
            return  # a writer is at work, or the callback is due: it takes this one too
        self._writer = _SCHEDULED
        gevent.get_hub().loop.run_callback(self._write_now)

    def _write_now(self):
        """Runs in gevent's loop: must never wait (see :meth:`_write_soon`)."""
        self._writer = None
        try:
            while True:
                item = self._take()
                if item is _NOTHING:
                    return
                if item is None:
                    break  # closing may wait for the socket: the writer's job
                try:
                    rest = self._ws.ws.send_without_waiting(item.encode())
                except Exception:
                    item = None  # as engine.io's writer: a failed send closes the WebSocket
                    break
                if rest:
                    item = rest  # a slow browser: the writer sends the rest and what follows
                    break
            self._writer = gevent.spawn_raw(self._write, item)
        finally:
            if self._writer is None and self._writer_done is not None:
                self._writer_done.set()

    def _write(self, first):
        """Send ``first`` (bytes a frame still owes, or None: close the WebSocket), then
        what is queued, waiting for the socket as needed; then end."""
        try:
            if first is None:
                self._close_ws()
            else:
                self._send_all(rest=first)
            while (item := self._take()) is not _NOTHING:
                if item is None:
                    self._close_ws()
                else:
                    self._send_all(encoded=item.encode())
        finally:
            # Nothing between the empty queue and here yields to another greenlet, so
            # a packet put from now on is written by the greenlet that puts it.
            self._writer = None
            if self._writer_done is not None:
                self._writer_done.set()

    def _take(self):
        """The next queued packet to send (None: close the WebSocket), taken without
        waiting; :data:`_NOTHING` when none is queued. Packets put after the WebSocket
        closed are dropped, as after engine.io's writer ended: never sent."""
        while True:
            try:
                item = self.queue.get(block=False)
            except QueueEmpty:
                return _NOTHING
            self.queue.task_done()
            if not self._ws_done:
                return item

    def _send_all(self, encoded=None, rest=b"") -> None:
        """Send an ``encoded`` packet, or the ``rest`` of a frame, waiting for the
        socket as needed (simple-websocket's own send can leave part of a frame unsent
        when the socket takes only some of it)."""
        try:
            if encoded is not None:
                rest = self._ws.ws.send_without_waiting(encoded)
            if rest:
                self._ws.ws.sock.sendall(rest)
        except Exception:
            self._close_ws()

    def _close_ws(self):
        self._ws_done = True
        try:
            self._ws.close()
        except OSError:  # the connection is already gone: nothing to tell it
            pass


class _NotStarted:
    """Stands in for simple-websocket's reader thread, which is never started."""

    name = ""

    def __init__(self, target) -> None:
        pass

    def start(self) -> None:
        pass


class _NoEvent:
    """Stands in for the event the reader thread would wake the reading one with."""

    def set(self) -> None:
        pass

    def clear(self) -> None:
        pass


class InlineWebSocket(simple_websocket.Server):
    """simple-websocket's server, read by whoever asks for a message.

    The handshake, the frames, the answers to pings and to a close are
    simple-websocket's and wsproto's as ever (``_handle_events``); only the loop
    of ``Base._thread`` (without its pings, which engine.io does not ask for)
    runs in :meth:`receive`, in engine.io's greenlet that waits for the message.
    """

    def __init__(self, environ) -> None:
        super().__init__(environ, thread_class=_NotStarted, event_class=_NoEvent)

    def send_without_waiting(self, data) -> bytes:
        """As :meth:`send`, writing only what the socket takes at once; the bytes of
        the frame it did not take (empty when all went)."""
        if not self.connected:
            raise simple_websocket.ConnectionClosed(self.close_reason, self.close_message)
        if isinstance(data, bytes):
            frame = self.ws.send(Message(data=data))
        else:
            frame = self.ws.send(TextMessage(data=str(data)))
        try:
            sent = self.sock.send(frame, timeout=0.0)  # gevent's: raise instead of waiting
        except BlockingIOError:
            sent = 0
        return frame[sent:]

    def receive(self, timeout=None):
        # engine.io always waits without a timeout (engineio.socket: ws.wait()).
        while self.connected and not self.input_buffer:
            try:
                data = self.sock.recv(self.receive_bytes)
                if not data:
                    raise OSError
                self.ws.receive_data(data)
                self.connected = self._handle_events()
            except (OSError, LocalProtocolError):
                self.connected = False
        if self.input_buffer:
            return self.input_buffer.pop(0)
        self.sock.close()  # as the reader thread does when it ends
        raise simple_websocket.ConnectionClosed(self.close_reason, self.close_message)


class InlineWebSocketWSGI(SimpleWebSocketWSGI):
    """engine.io's WebSocket for simple-websocket (``engineio.async_drivers.gevent``),
    with :class:`InlineWebSocket` instead of a server that starts a reader."""

    def __init__(self, handler, server) -> None:
        super().__init__(handler, server)

    def __call__(self, environ, start_response):
        # SimpleWebSocketWSGI.__call__, with the other server class.
        self.ws = InlineWebSocket(environ)
        answer = self.app(self)
        if self.ws.mode == "gunicorn":
            raise StopIteration()
        if self.ws.mode == "werkzeug":
            raise ConnectionError()
        return answer
