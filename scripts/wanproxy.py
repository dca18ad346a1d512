#!/usr/bin/env python3
"""Run the WAN emulator on its own, in front of a registry on 127.0.0.1 (scripts/bench.py uses the same one).

  scripts/wanproxy.py --target 5000 [--rtt-ms 40] [--connection-mbps 10] [--total-mbps 50] [--handshake]

Prints the port it listens on, then bytes served every 10 s until Ctrl-C.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the test kit lives in tests/testkit

from testkit.wanproxy import WanProxy  # noqa: E402

MB = 1_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", type=int, required=True, help="port of the registry on 127.0.0.1")
    parser.add_argument("--rtt-ms", type=float, default=40.0)
    parser.add_argument("--connection-mbps", type=float, default=10.0, help="MB/s per connection (0: no cap)")
    parser.add_argument("--total-mbps", type=float, default=50.0, help="MB/s for all connections (0: no cap)")
    parser.add_argument("--handshake", action="store_true", help="a new connection costs a round trip, as TCP's")
    args = parser.parse_args()
    proxy = WanProxy(args.target, latency=args.rtt_ms / 2000, connection_rate=args.connection_mbps * MB or None,
                     total_rate=args.total_mbps * MB or None, handshake=args.handshake).start()
    print(f"listening on {proxy.host}, forwarding to 127.0.0.1:{args.target}", flush=True)
    try:
        while True:
            time.sleep(10)
            print(f"{proxy.counters.bytes_down / MB:.1f} MB served over {proxy.counters.connections} connections",
                  flush=True)
    except KeyboardInterrupt:
        proxy.stop()


if __name__ == "__main__":
    main()
