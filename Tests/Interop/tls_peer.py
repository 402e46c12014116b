"""TLS peers written with Python's ssl module, for interoperability tests.

usage:
  tls_peer.py echo-server CERT KEY        serve one client on a free loopback port,
                                          echoing everything (the tutorial's echo
                                          server wrapped in ssl); prints
                                          'Listening on 127.0.0.1:PORT' first
  tls_peer.py tiny HOST PORT CAFILE N     send N bytes as N records of one byte each,
                                          read the echo back; prints 'echoed N bytes'
  tls_peer.py certificate HOST PORT       print the certificate the server presents (PEM)
  tls_peer.py s_client PORT CAFILE TEXT   send TEXT through `openssl s_client` (checking
                                          the chain and the name localhost), wait for
                                          its echo; prints 's_client echoed: TEXT'
  tls_peer.py s_server CERT KEY TEXT     `openssl s_server` for one client, answering it
                                          with TEXT (its stdin); prints 'Listening on
                                          127.0.0.1:PORT', then, once the client has
                                          gone, 's_server received: TEXT' when the
                                          client's TEXT came through
  tls_peer.py until-close PORT CAFILE     connect, send nothing, read until the server
                                          closes; prints 'close_notify' for an orderly
                                          TLS end, 'cut' for a TCP end without one
  tls_peer.py renegotiate PORT CAFILE     TLS 1.2 through `openssl s_client`: one line
                                          echoed, then ask to renegotiate (its R
                                          command); prints 'ended: ' and how the
                                          connection ended
"""

import socket
import ssl
import subprocess
import sys


def echo_server(cert, key):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        print(f"Listening on 127.0.0.1:{listener.getsockname()[1]}", flush=True)
        listener.settimeout(30)
        plain, _ = listener.accept()
        with context.wrap_socket(plain, server_side=True) as conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)


def tiny(host, port, cafile, count):
    context = ssl.create_default_context(cafile=cafile)
    with socket.create_connection((host, port), timeout=20) as plain:
        with context.wrap_socket(plain, server_hostname=host) as conn:
            sent = bytes(i % 251 for i in range(count))
            for i in range(count):
                conn.sendall(sent[i:i + 1])
            received = b""
            while len(received) < count:
                data = conn.recv(65536)
                if not data:
                    break
                received += data
    if received != sent:
        print(f"echo differs: {len(received)} of {count} bytes", file=sys.stderr)
        sys.exit(1)
    print(f"echoed {count} bytes")


def certificate(host, port):
    print(ssl.get_server_certificate((host, port)), end="")


def s_client(port, cafile, text):
    command = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost",
               "-CAfile", cafile, "-verify_return_error", "-quiet"]
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as client:
        try:
            client.stdin.write((text + "\n").encode())
            client.stdin.flush()
            # -quiet waits for the server to close; the echo is the event we wait for.
            line = client.stdout.readline().decode().rstrip("\n")
        finally:
            client.kill()
    if line != text:
        print(f"s_client got {line!r}", file=sys.stderr)
        sys.exit(1)
    print(f"s_client echoed: {line}")


def s_server(cert, key, text):
    command = ["openssl", "s_server", "-cert", cert, "-key", key, "-accept", "127.0.0.1:0", "-naccept", "1",
               "-ign_eof"]
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as server:
        try:
            while True:
                line = server.stdout.readline()
                if not line:
                    print("s_server did not start: " + server.stderr.read(), file=sys.stderr)
                    sys.exit(1)
                if line.startswith("ACCEPT "):
                    break
            print(f"Listening on 127.0.0.1:{line.rsplit(':', 1)[1].strip()}", flush=True)
            # Sent once a client is connected: s_server reads its stdin only then.
            server.stdin.write(text)
            server.stdin.flush()
            # -naccept 1: it exits when the client has gone.
            server.wait(timeout=60)
            said = server.stdout.read()
        finally:
            server.kill()
    if text not in said:
        print(f"s_server printed {said!r}", file=sys.stderr)
        sys.exit(1)
    print(f"s_server received: {text}")


def renegotiate(port, cafile):
    command = ["openssl", "s_client", "-tls1_2", "-connect", f"127.0.0.1:{port}", "-servername", "localhost",
               "-CAfile", cafile, "-verify_return_error"]
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as client:
        try:
            client.stdin.write(b"first\n")
            client.stdin.flush()
            while True:
                line = client.stdout.readline()
                if not line or line == b"first\n":
                    break
            client.stdin.write(b"R\n")
            client.stdin.flush()
            # The server refuses; s_client reports it and the connection ends.
            rest = client.stdout.read().decode(errors="replace")
        finally:
            client.kill()
    print("ended: " + " | ".join(rest.split("\n")))


def until_close(port, cafile):
    context = ssl.create_default_context(cafile=cafile)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as plain:
        with context.wrap_socket(plain, server_hostname="localhost", suppress_ragged_eofs=False) as conn:
            try:
                while conn.recv(65536):
                    pass
                print("close_notify")
            except ssl.SSLEOFError:
                print("cut")


def main():
    args = sys.argv[1:]
    if args[:1] == ["echo-server"] and len(args) == 3:
        echo_server(args[1], args[2])
    elif args[:1] == ["tiny"] and len(args) == 5:
        tiny(args[1], int(args[2]), args[3], int(args[4]))
    elif args[:1] == ["s_client"] and len(args) == 4:
        s_client(int(args[1]), args[2], args[3])
    elif args[:1] == ["s_server"] and len(args) == 4:
        s_server(args[1], args[2], args[3])
    elif args[:1] == ["until-close"] and len(args) == 3:
        until_close(int(args[1]), args[2])
    elif args[:1] == ["renegotiate"] and len(args) == 3:
        renegotiate(int(args[1]), args[2])
    elif args[:1] == ["certificate"] and len(args) == 3:
        certificate(args[1], int(args[2]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
