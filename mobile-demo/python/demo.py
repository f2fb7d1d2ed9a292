"""The demo phone flow from Python with asyncio: receive a document from a giayto-server,
present it as a QR (terminal and PNG), verify it offline.

Usage (after scripts/test-bindings.sh built the wheel and installed it in its venv, or
`pip install` of a wheel built as bindings/README.md says):
  target/tools/python-venv/bin/python mobile-demo/python/demo.py SERVER OFFER_URI TX_CODE
"""

import asyncio
import secrets
import sys
import tempfile
import urllib.error
import urllib.request

import giayto as g


class UrllibHttpClient(g.HttpClient):
    """urllib in a worker thread, so the event loop never waits on the network."""

    async def send(self, request):
        return await asyncio.to_thread(self._send, request)

    @staticmethod
    def _send(request):
        req = urllib.request.Request(request.url, data=bytes(request.body) or None,
                                     method=request.method,
                                     headers={h.name: h.value for h in request.headers})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, headers, body = resp.status, resp.headers.items(), resp.read()
        except urllib.error.HTTPError as err:
            status, headers, body = err.code, err.headers.items(), err.read()
        except OSError as err:
            raise g.GiaytoError.Network(str(err)) from err
        return g.HttpResponse(status=status, body=body,
                              headers=[g.HttpHeader(name=n, value=v) for n, v in headers])


class PrintedProgress(g.ProgressListener):
    def on_progress(self, progress):
        print(f"  {progress.completed}/{progress.total} {progress.stage.name.lower()}")


async def main(server, offer, tx_code):
    http = UrllibHttpClient()
    home = tempfile.mkdtemp(prefix="giayto-demo")
    wallet = await g.Wallet.open(f"{home}/wallet.vault", secrets.token_bytes(32), g.software_key_store(), http)
    doc = await wallet.receive(offer, tx_code, PrintedProgress())
    print(f"received {doc.name_vi} / {doc.name_en}")
    for claim in doc.claims:
        print(f"  {claim.label_vi or claim.path:34} {claim.value}")

    anchor = (await http.send(g.HttpRequest(method="GET", url=f"{server}/trust-anchor.json",
                                            headers=[], body=b""))).body.decode()
    verifier = g.Verifier(anchor, "demo-desk")
    # Online once: the trust list and every trusted issuer's status lists.
    sync = await verifier.sync(f"{server}/trust-list", http, PrintedProgress())
    print(f"synced {sync.lists} status list(s), {len(sync.failures)} failed")
    qr = await wallet.present(doc.id, g.ClaimSelection.PRESET("traffic_stop"), g.PresentationMode.ONE_WAY())
    print(g.render_qr_terminal(qr.qr_text))
    with open(f"{home}/presentation.png", "wb") as f:
        f.write(qr.png)
    result = verifier.verify_image(qr.png)
    print("VALID" if result.valid else f"NOT VALID: {[e.message for e in result.errors]}")
    print(f"PNG: {home}/presentation.png")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    asyncio.run(main(*sys.argv[1:]))
