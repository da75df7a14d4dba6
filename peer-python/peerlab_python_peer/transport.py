"""One UDP socket, bound to --host, carrying every protocol message as one JSON
datagram. There is no TCP: full-state exchanges fit a datagram at the group
sizes this peer is for (about 80 bytes a member), so a kernel rule on the
(saddr, daddr) pair of two peers' addresses covers all their traffic.
"""
import json
import socket


def parse_address(text):
    """'host:port' -> (host, port), or None."""
    if not isinstance(text, str):
        return None
    host, sep, port = text.rpartition(':')
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        return None
    return host, int(port)


def format_address(address):
    return f'{address[0]}:{address[1]}'


class Transport:
    def __init__(self, host, port, max_packet_bytes, log):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind((host, port))
        self.sock.setblocking(False)
        self.address = format_address(self.sock.getsockname())
        self.max_packet_bytes = max_packet_bytes
        self.log = log
        self.udp_out = 0
        self.udp_out_bytes = 0
        self.malformed = 0
        self.oversize = 0
        self.blocked = 0

    def send(self, address, message):
        """Sends one message to 'host:port'; False if it could not go (too large, or the kernel refused)."""
        target = parse_address(address)
        if target is None:
            return False
        data = json.dumps(message, separators=(',', ':'), ensure_ascii=False).encode('utf-8')
        if len(data) > self.max_packet_bytes:
            self.oversize += 1
            self.log('warn', f'dropped a {message.get("t")} datagram of {len(data)} bytes (limit {self.max_packet_bytes})')
            return False
        try:
            self.sock.sendto(data, target)
        except OSError:
            # A kernel rule (the fault backend's nftables reject) or a full buffer: like a lost datagram.
            self.blocked += 1
            return False
        self.udp_out += 1
        self.udp_out_bytes += len(data)
        return True

    def receive(self):
        """Every datagram waiting now, as (message dict, 'host:port'); malformed ones are counted and dropped."""
        out = []
        while True:
            try:
                data, sender = self.sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return out
            except OSError:
                return out  # e.g. ICMP port unreachable reported on a later call: nothing to read
            try:
                message = json.loads(data.decode('utf-8'))
            except (UnicodeDecodeError, ValueError):
                self.malformed += 1
                continue
            if not isinstance(message, dict) or not isinstance(message.get('t'), str):
                self.malformed += 1
                continue
            out.append((message, format_address(sender)))

    def close(self):
        self.sock.close()
