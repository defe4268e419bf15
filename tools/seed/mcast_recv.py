#!/usr/bin/env python3
"""A multicast receiver written the way the seed tutorials write it: a plain socket, SO_REUSEADDR,
IP_ADD_MEMBERSHIP (or IP_ADD_SOURCE_MEMBERSHIP for SSM) on a chosen interface, and an optional reply
to the sender. Used by Shoal's interop tests: `shoal-send --raw` must reach it, and its replies
must reach the sender.

usage: mcast_recv.py GROUP PORT IFACE_ADDR [--count N] [--timeout S] [--reply] [--source ADDR]
Prints one line per datagram: "<sender ip> <sender port> <hex payload>".
"""
import argparse
import socket
import struct
import sys

IP_ADD_SOURCE_MEMBERSHIP = getattr(socket, "IP_ADD_SOURCE_MEMBERSHIP", 39)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("group")
    p.add_argument("port", type=int)
    p.add_argument("iface")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--reply", action="store_true", help="answer each datagram with b'ack:' + payload")
    p.add_argument("--source", help="SSM: accept only this source")
    a = p.parse_args()

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((a.group, a.port))
    if a.source:
        # struct ip_mreq_source { imr_multiaddr; imr_interface; imr_sourceaddr } (Linux order)
        mreq = struct.pack("4s4s4s", socket.inet_aton(a.group), socket.inet_aton(a.iface), socket.inet_aton(a.source))
        sock.setsockopt(socket.IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, mreq)
    else:
        mreq = struct.pack("4s4s", socket.inet_aton(a.group), socket.inet_aton(a.iface))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    sock.settimeout(a.timeout)
    print("ready", flush=True)
    got = 0
    try:
        while got < a.count:
            data, (host, port) = sock.recvfrom(65535)
            print(f"{host} {port} {data.hex()}", flush=True)
            if a.reply:
                sock.sendto(b"ack:" + data, (host, port))
            got += 1
    except socket.timeout:
        print(f"timeout after {got} datagrams", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
