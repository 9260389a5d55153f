"""STUN capture for lab debugging: prints every STUN message (with its attributes, ICE role
tie-breakers and error codes) that crosses any interface of the network namespace it runs in.

    ip netns exec <prefix>-g python3 test-interop/lab/stun-capture.py OUT_FILE SECONDS

Needs root (a raw AF_PACKET socket). Found the TURN-over-TCP cause in docs/interop.md.
"""
import socket, struct, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
out = open(sys.argv[1], 'w')
end = time.time() + float(sys.argv[2])
s.settimeout(1)
NAMES = {0x0006:'USERNAME',0x0008:'MI',0x8028:'FP',0x0024:'PRIORITY',0x0025:'USE-CAND',0x8029:'CONTROLLED',0x802A:'CONTROLLING',0x0009:'ERROR',0x0020:'XOR-MAPPED',0xC057:'GOOG-NET',0xC058:'GOOG-LAST-ICE',0xC059:'GOOG-MISC',0xC060:'GOOG-OBS',0xC05A:'GOOG-?',0x001C:'MI-SHA256'}
while time.time() < end:
    try:
        pkt, addr = s.recvfrom(65535)
    except socket.timeout:
        continue
    if addr[2] == socket.PACKET_OUTGOING and addr[0] == 'lo': continue
    if pkt[12:14] != b'\x08\x00': continue
    ip = pkt[14:]
    if ip[9] != 17: continue
    ihl = (ip[0] & 15) * 4
    src = socket.inet_ntoa(ip[12:16]); dst = socket.inet_ntoa(ip[16:20])
    udp = ip[ihl:]
    sp, dp, ulen = struct.unpack('!HHH', udp[:6])
    p = udp[8:]
    if len(p) < 20 or p[4:8] != b'\x21\x12\xa4\x42': continue
    mtype, mlen = struct.unpack('!HH', p[:4])
    attrs = []
    i = 20
    while i + 4 <= 20 + mlen and i + 4 <= len(p):
        t, l = struct.unpack('!HH', p[i:i+4])
        v = p[i+4:i+4+l]
        name = NAMES.get(t, hex(t))
        if t in (0x8029, 0x802A): name += '=' + v.hex()
        if t == 0x0009: name += '=' + str(v[2]*100+v[3]) + ' ' + v[4:].decode('utf8', 'replace')
        if t == 0x0006: name += '=' + v.decode('utf8', 'replace')
        attrs.append(f'{name}({l})')
        i += 4 + l + ((4 - l % 4) % 4)
    out.write(f'{time.time():.3f} {addr[0]} {src}:{sp} -> {dst}:{dp} type=0x{mtype:04x} len={mlen} paylen={len(p)} udplen={ulen-8} {" ".join(attrs)}\n')
    out.flush()
