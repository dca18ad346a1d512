"""The test kit's WAN emulator, which most timing-sensitive tests and the benchmarks go through."""

import gc
import http.client
import logging
import socket
import threading
import time

from testkit.wanproxy import WanProxy

CLIENTS, REQUESTS = 8, 40


def test_no_connection_task_is_collected_while_it_relays(source, caplog):
    """Every connection's tasks live until the connection ends. Before the server held them, Python's cyclic
    collector destroyed some pending ones (asyncio's "Task was destroyed but it is pending!"), and when they
    woke later: "cannot reuse already awaited coroutine"."""
    caplog.set_level(logging.ERROR, logger="asyncio")
    failures = []

    def client(number: int) -> None:
        for request in range(REQUESTS):
            try:
                if request % 2:  # a request answered and read, as a registry client does
                    connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
                    connection.request("GET", "/v2/")
                    connection.getresponse().read()
                    connection.close()
                else:  # a client that drops the connection mid-request, with a reset
                    raw = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
                    raw.sendall(b"GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    time.sleep(0.001 * (request % 7))
                    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    raw.close()
            except OSError as error:
                failures.append(f"client {number}, request {request}: {error}")
            if request % 5 == 0:
                gc.collect()

    with WanProxy(source.port, latency=0.01) as proxy:
        threads = [threading.Thread(target=client, args=(number,)) for number in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        deadline = time.monotonic() + 10
        while proxy.running_tasks and time.monotonic() < deadline:  # the last relays end after the link's latency
            time.sleep(0.05)
        gc.collect()
        left = proxy.running_tasks
    assert failures == []
    assert proxy.counters.connections == CLIENTS * REQUESTS
    assert [record.getMessage() for record in caplog.records] == []
    assert left == 0, f"{left} relay tasks still running after every client closed"


def test_with_handshake_a_new_connection_costs_one_round_trip_more_and_a_kept_one_does_not(source):
    """scripts/bench.py --handshake: over loopback a connect ends at once, so without it a client that opens a
    connection per request (skopeo before containers/image 5.25) pays nothing for it."""
    latency = 0.1

    def two_requests_on_one_connection() -> list:
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        seconds = []
        for _ in range(2):
            started = time.monotonic()
            connection.request("GET", "/v2/")
            connection.getresponse().read()
            seconds.append(time.monotonic() - started)
        connection.close()
        return seconds

    with WanProxy(source.port, latency=latency, handshake=True) as proxy:
        first, again = two_requests_on_one_connection()
    assert first >= 4 * latency  # the handshake's round trip, then the request's
    assert again < first - latency  # the connection is open: only the request's round trip
