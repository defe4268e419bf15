#!/usr/bin/env python3
"""A multicast sender written the way the seed tutorials write it: IP_MULTICAST_IF on a chosen
interface, IP_MULTICAST_TTL, binary data, then wait (with a timeout) for replies from receivers.
Used by Shoal's interop tests: `shoal-recv --raw` must print what it sends.

usage: mcast_send.py GROUP PORT IFACE_ADDR [--ttl N] [--hex HEX | --text TEXT] [--count N] [--wait S]
Prints each reply as "<receiver ip> <receiver port> <hex payload>".
"""
import argparse
import socket
import sys
import time


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("group")
    p.add_argument("port", type=int)
    p.add_argument("iface")
    p.add_argument("--ttl", type=int, default=1)
    p.add_argument("--hex", help="payload as hex")
    p.add_argument("--text", default="hello from a seed sender")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--interval", type=float, default=0.05)
    p.add_argument("--wait", type=float, default=0.0, help="seconds to wait for replies")
    a = p.parse_args()

    payload = bytes.fromhex(a.hex) if a.hex else a.text.encode()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(a.iface))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, a.ttl)
    sock.bind((a.iface, 0))
    for _ in range(a.count):
        sock.sendto(payload, (a.group, a.port))
        time.sleep(a.interval)
    if a.wait > 0:
        sock.settimeout(a.wait)
        deadline = time.monotonic() + a.wait
        try:
            while time.monotonic() < deadline:
                data, (host, port) = sock.recvfrom(65535)
                print(f"{host} {port} {data.hex()}", flush=True)
        except socket.timeout:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
