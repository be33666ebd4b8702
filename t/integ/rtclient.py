#!/usr/bin/env python3
"""rtclient: a test client of the runtime role's attach protocol
(applets/runtime.h), for t/integ/runtime.sh.

rtclient.py [--stdin FILE] [--signal N@SEC] [--noread SEC] [--detach SEC]
            -- RUNTIME-ARGV...
Runs RUNTIME-ARGV with one end of a socketpair, whose number replaces the
word @FD, relays STDOUT/STDERR of stream 1 to its own stdout/stderr and
exits with the EXIT status: 125 on an ERROR frame (message on stderr), 124
when the runtime closed without EXIT, 123 on a bad frame.
  --stdin FILE   FILE's bytes as STDIN frames, then EOF
  --signal N@S   SIGNAL N for the workload after S seconds
  --noread S     never read; after S seconds SIGTERM the runtime
  --detach S     close the connection after S seconds
  --slow S       sleep S seconds after each read (a slow client)
With --noread/--detach it exits 0 once the runtime has ended.  The
runtime's own exit code is written to $RTRC when set ("signal N" if it
died of a signal)."""
import os, socket, struct, subprocess, sys, threading, time

MAGIC, VER = 0xC7A6, 1
HELLO, OK, ERROR, SIGNAL, EXIT, STDIN, STDOUT, STDERR = 1, 3, 4, 0x12, 0x16, 0x20, 0x21, 0x22
EOF_FLAG = 1

def frame(t, stream, flags, payload=b""):
    return struct.pack(">HBBIII", MAGIC, VER, t, stream, flags, len(payload)) + payload

def fields(p):
    out, i = {}, 0
    while i + 5 <= len(p):
        tag, size = struct.unpack(">BI", p[i:i + 5])
        out[tag] = p[i + 5:i + 5 + size]
        i += 5 + size
    return out

args = sys.argv[1:]
stdin_file = noread = detach = sig = None
slow = 0.0
while args and args[0] != "--":
    if args[0] == "--stdin": stdin_file = args[1]; args = args[2:]
    elif args[0] == "--noread": noread = float(args[1]); args = args[2:]
    elif args[0] == "--slow": slow = float(args[1]); args = args[2:]
    elif args[0] == "--detach": detach = float(args[1]); args = args[2:]
    elif args[0] == "--signal": sig = args[1]; args = args[2:]
    else: sys.exit("rtclient: bad option " + args[0])
argv = args[1:]
a, b = socket.socketpair()
argv = [str(b.fileno()) if x == "@FD" else x for x in argv]
proc = subprocess.Popen(argv, pass_fds=(b.fileno(),))
b.close()

if stdin_file is not None:
    def writer():
        try:
            with open(stdin_file, "rb") as f:
                while True:
                    chunk = f.read(65536)
                    if not chunk: break
                    a.sendall(frame(STDIN, 1, 0, chunk))
            a.sendall(frame(STDIN, 1, EOF_FLAG))
        except OSError:
            pass
    threading.Thread(target=writer, daemon=True).start()
if sig:
    n, at = sig.split("@")
    def signaller():
        time.sleep(float(at))
        try: a.sendall(frame(SIGNAL, 1, 0, struct.pack(">BIq", 14, 8, int(n))))
        except OSError: pass
    threading.Thread(target=signaller, daemon=True).start()

def report(rc):
    if os.environ.get("RTRC"):
        with open(os.environ["RTRC"], "w") as f:
            f.write("signal %d" % -rc if isinstance(rc, int) and rc < 0 else str(rc))

if noread is not None or detach is not None:
    time.sleep(noread if noread is not None else detach)
    if noread is not None:
        proc.terminate()
    else:
        a.close()
    try: rc = proc.wait(timeout=120)
    except subprocess.TimeoutExpired: proc.kill(); rc = "hung"
    report(rc)
    sys.exit(0)

buf, status = b"", None
out, err = sys.stdout.buffer, sys.stderr.buffer
while True:
    while len(buf) >= 16:
        magic, ver, t, stream, flags, ln = struct.unpack(">HBBIII", buf[:16])
        if magic != MAGIC or ver != VER:
            sys.stderr.write("rtclient: bad frame from the runtime\n"); sys.exit(123)
        if len(buf) < 16 + ln: break
        p, buf = buf[16:16 + ln], buf[16 + ln:]
        if t == STDOUT: out.write(p); out.flush()
        elif t == STDERR: err.write(p); err.flush()
        elif t == EXIT: status = struct.unpack(">q", fields(p)[15])[0]
        elif t == ERROR:
            msg = fields(p).get(5, b"?").rstrip(b"\0").decode(errors="replace")
            sys.stderr.write("rtclient: error: %s\n" % msg)
            if status is None: status = 125
    d = a.recv(1 << 16)
    if not d: break
    if slow: time.sleep(slow)
    buf += d
report(proc.wait())
sys.exit(124 if status is None else status)
