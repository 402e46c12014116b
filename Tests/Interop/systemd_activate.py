"""Starts a program the way systemd's socket activation does: a TCP socket bound to
127.0.0.1 on a free port and listening becomes descriptor 3, LISTEN_FDS=1 and
LISTEN_PID name this process, and the program replaces this process (exec), so its
PID is the one LISTEN_PID names and the one the caller signals.

    python3 systemd_activate.py PROGRAM ARGUMENTS...
"""
import os
import socket
import sys

listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(128)
if listener.fileno() != 3:
    os.dup2(listener.fileno(), 3)
    listener.close()
os.set_inheritable(3, True)
os.environ["LISTEN_FDS"] = "1"
os.environ["LISTEN_PID"] = str(os.getpid())
os.execv(sys.argv[1], sys.argv[1:])
