"""Writes the seeds of the TLS fuzz target (Fuzz/seeds/tls), made by Python's ssl module
through memory BIOs, independently of Conduit: ClientHellos (TLS 1.3 and 1.2, as a
server receives them; first byte even) and a server's first flight answering one (as a
client receives it; first byte odd). The server's key and certificate are made for the
run in a temporary directory and thrown away. Run: python3 Fuzz/seeds/make_tls_seeds.py"""

import os
import ssl
import subprocess
import tempfile

here = os.path.dirname(os.path.abspath(__file__))


def hello(maximum):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.maximum_version = maximum
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = context.wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        client.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return client, incoming, outgoing.read()


def server_flight(client_hello, directory):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", "key.pem", "-out", "cert.pem", "-days", "1", "-subj", "/CN=localhost"],
                   cwd=directory, check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem"))
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    server = context.wrap_bio(incoming, outgoing, server_side=True)
    incoming.write(client_hello)
    try:
        server.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def write(name, data):
    folder = os.path.join(here, "tls")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def main():
    _, _, hello13 = hello(ssl.TLSVersion.TLSv1_3)
    _, _, hello12 = hello(ssl.TLSVersion.TLSv1_2)
    write("client-hello-1.3", b"\x00" + hello13)
    write("client-hello-1.2-chunks-of-5", b"\x08" + hello12)
    with tempfile.TemporaryDirectory() as directory:
        write("server-flight-1.3", b"\x01" + server_flight(hello13, directory))
    write("plaintext-request", b"\x00GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")


if __name__ == "__main__":
    main()
