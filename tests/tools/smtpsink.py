"""A small SMTP receiver for the tests, on loopback: it records each message with
its envelope, and can be told to refuse (temporarily or for good)."""

import socketserver
import threading


class Sink:
    def __init__(self, port=0):
        self.messages = []      # (mail_from, [rcpts], data bytes)
        self.mode = "accept"    # "accept", "tempfail" (451), "reject" (550)
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line):
                self.wfile.write((line + "\r\n").encode())
                self.wfile.flush()

            def handle(self):
                self.reply("220 sink ESMTP")
                mail_from, rcpts = None, []
                while True:
                    line = self.rfile.readline(65536)
                    if not line:
                        return
                    cmd = line.decode("latin-1").strip()
                    up = cmd.upper()
                    if up.startswith("EHLO"):
                        self.wfile.write(b"250-sink\r\n250-8BITMIME\r\n250 SIZE 100000000\r\n")
                        self.wfile.flush()
                    elif up.startswith("HELO"):
                        self.reply("250 sink")
                    elif up.startswith("MAIL FROM:"):
                        if sink.mode == "tempfail":
                            self.reply("451 4.3.0 try again later")
                            continue
                        mail_from = cmd[10:].split()[0].strip("<>") if cmd[10:].strip() else ""
                        rcpts = []
                        self.reply("250 ok")
                    elif up.startswith("RCPT TO:"):
                        if sink.mode == "reject":
                            self.reply("550 5.7.1 refused")
                            continue
                        rcpts.append(cmd[8:].split()[0].strip("<>"))
                        self.reply("250 ok")
                    elif up == "DATA":
                        self.reply("354 go")
                        data = bytearray()
                        while True:
                            l = self.rfile.readline(1 << 20)
                            if not l or l in (b".\r\n", b".\n"):
                                break
                            if l.startswith(b".."):
                                l = l[1:]
                            data += l
                        sink.messages.append((mail_from, list(rcpts), bytes(data)))
                        self.reply("250 queued")
                    elif up == "QUIT":
                        self.reply("221 bye")
                        return
                    elif up == "RSET":
                        mail_from, rcpts = None, []
                        self.reply("250 ok")
                    else:
                        self.reply("250 ok")

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
