#!/usr/bin/python3
# systemd's side of sd_notify(3), for tests: a SOCK_DGRAM socket at argv[1] (a path, or @name
# for the abstract namespace) with SO_PASSCRED, so each datagram comes with the sender's PID
# as the kernel saw it (what systemd's NotifyAccess=main checks). One JSON line per datagram.
import json
import socket
import struct
import sys

name = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind("\0" + name[1:] if name.startswith("@") else name)
print(json.dumps({"listening": name}), flush=True)
while True:
    data, anc, _flags, _addr = s.recvmsg(65536, socket.CMSG_SPACE(12))
    pid = uid = None
    for level, kind, cdata in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid, uid, _gid = struct.unpack("iII", cdata[:12])
    print(json.dumps({"pid": pid, "uid": uid, "msg": data.decode("utf-8", "replace")}), flush=True)
