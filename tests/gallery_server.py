"""A local HTTP server (127.0.0.1 only) for the gallery tests: a small classifier, a second one,
a smaller-input one, a corrupt file, an interrupted transfer (``/truncated/...``) and 404s."""

from __future__ import annotations

import contextlib
import http.server
import threading

from tests.engine.onnx_models import GraphBuilder

__all__ = ["FILES", "GOOD", "serve"]


def _classifier(size=32, seed=0) -> bytes:
    g = GraphBuilder(("N", 3, size, size), seed=seed)
    y = g.node("Flatten", [g.node("GlobalAveragePool", ["input"])])
    return g.model([g.gemm(y, 3, 1000)]).SerializeToString()


GOOD = _classifier()
FILES = {"/model.onnx": GOOD, "/other.onnx": _classifier(seed=1),
         "/small.onnx": _classifier(size=16), "/corrupt.onnx": bytes(range(256)) * 60}


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = FILES.get(self.path.replace("/truncated", ""))
        if body is None:
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.path.startswith("/truncated"):
            self.wfile.write(body[: len(body) // 2])  # then the connection closes
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve():
    """The server's base URL while the block runs."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
