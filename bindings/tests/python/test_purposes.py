"""Purpose credentials through the giayto Python package (the installed wheel) against a
running giayto-server: the wallet receives the licence with its batches (one key-store key
per credential), shows traffic_stop from a new credential each time (two QR bodies with no
issuer signature in common, both verified by the package's Verifier, which names the
purpose), says the fallback in Vietnamese and English once the preset runs out, and refills
it with the refresh token.

Run by scripts/test-bindings.sh (which installs the wheel, starts the server and publishes
the licence); prints "python purposes: N passed, M failed".
"""

import asyncio
import os
import secrets
import sys
import tempfile
import urllib.error
import urllib.request

import giayto as g
from check_runner import run_checks

SERVER = os.environ["GIAYTO_SERVER"]
OFFER = os.environ["GIAYTO_PURPOSE_OFFER_URI"]
TX_CODE = os.environ["GIAYTO_PURPOSE_TX_CODE"]
TRAFFIC = g.ClaimSelection.PRESET("traffic_stop")
ONE_WAY = g.PresentationMode.ONE_WAY()


class Http(g.HttpClient):
    """urllib on a worker thread (test_bindings.py shows the app-side client at length)."""

    async def send(self, request):
        def blocking():
            req = urllib.request.Request(
                request.url, data=bytes(request.body) or None, method=request.method,
                headers={h.name: h.value for h in request.headers},
            )
            try:
                resp = urllib.request.urlopen(req, timeout=30)
            except urllib.error.HTTPError as err:
                resp = err
            with resp:
                headers = [g.HttpHeader(name=n, value=v) for n, v in resp.headers.items()]
                return g.HttpResponse(status=resp.status, headers=headers, body=resp.read())

        return await asyncio.to_thread(blocking)


class Keys(g.KeyStore):
    """The in-memory key store, counting the keys it holds by alias."""

    def __init__(self):
        self.inner, self.aliases = g.software_key_store(), set()

    def get_or_create_key(self, alias):
        self.aliases.add(alias)
        return self.inner.get_or_create_key(alias)

    def get_key(self, alias):
        return self.inner.get_key(alias)

    def delete_key(self, alias):
        self.aliases.discard(alias)
        self.inner.delete_key(alias)


class Stages(g.ProgressListener):
    def __init__(self):
        self.seen = []

    def on_progress(self, progress):
        self.seen.append(progress.stage)


HTTP = Http()


def issuer_jwt(presentation):
    """The issuer-signed JWT of a compact SD-JWT presentation."""
    return presentation.split("~")[0]


async def run():
    failures = []
    directory = tempfile.mkdtemp(prefix="giayto-python-purposes")
    keys = Keys()
    wallet = await g.Wallet.open(
        os.path.join(directory, "wallet.vault"), secrets.token_bytes(32), keys, HTTP
    )
    anchor = g.HttpRequest(method="GET", url=f"{SERVER}/trust-anchor.json", headers=[], body=b"")
    anchor = (await HTTP.send(anchor)).body.decode()
    verifier = g.Verifier(anchor, "csgt:python-purpose-officer")
    state = {}

    def left():
        counts = wallet.document(state["id"]).purposes
        return next(c.unused for c in counts if c.preset == "traffic_stop")

    async def receive():
        doc = await wallet.receive(OFFER, TX_CODE)
        state["id"] = doc.id
        assert doc.purposes and all(c.unused > 0 and c.used == 0 for c in doc.purposes), doc.purposes
        assert doc.refillable
        purpose_keys = [a for a in keys.aliases if a.startswith("giayto-purpose-")]
        assert len(purpose_keys) == sum(c.unused for c in doc.purposes), len(purpose_keys)
        assert len([a for a in keys.aliases if a.startswith("giayto-holder-")]) == 1

    async def shown_twice():
        before = left()
        first = await wallet.present(state["id"], TRAFFIC, ONE_WAY)
        second = await wallet.present(state["id"], TRAFFIC, ONE_WAY)
        assert first.source.is_purpose_credential() and first.source.left == before - 1, first.source
        assert second.source.is_purpose_credential() and second.source.left == before - 2
        assert first.notice_vi is None and first.notice_en is None
        assert first.qr_text != second.qr_text
        assert issuer_jwt(first.presentation) != issuer_jwt(second.presentation)
        sync = await verifier.sync(f"{SERVER}/trust-list", HTTP)
        assert not sync.failures, sync.failures
        for qr in (first, second):
            verdict = verifier.verify_qr_text(qr.qr_text)
            assert verdict.valid and verdict.status == g.CredentialStatus.VALID, verdict.errors
            assert verdict.document_type_id == "driving_licence" and verdict.purpose == "traffic_stop"
            assert verdict.purpose_name_en == "Traffic stop" and verdict.purpose_name_vi
        assert left() == before - 2

    async def fallback():
        seen = []
        while left() > 0:
            seen.append(issuer_jwt((await wallet.present(state["id"], TRAFFIC, ONE_WAY)).presentation))
        state["seen"] = seen
        reused = await wallet.present(state["id"], TRAFFIC, ONE_WAY)
        assert reused.source.is_reused_purpose_credential(), reused.source
        assert "Đã dùng hết" in reused.notice_vi and "shown before" in reused.notice_en
        full = await wallet.present(
            state["id"], TRAFFIC, ONE_WAY, g.PurposeFallback.FULL_CREDENTIAL
        )
        assert full.source.is_full_credential() and full.source.fallback, full.source
        assert "full credential" in full.notice_en
        assert "traffic_stop" in wallet.document(state["id"]).presets_to_refill

    async def refill():
        progress = Stages()
        result = await wallet.refill(state["id"], progress)
        assert not result.failures, result.failures
        assert result.added > 0 and left() == result.added, (result.added, left())
        stages = progress.seen
        assert stages[0] == g.ProgressStage.ISSUER_METADATA, stages
        assert stages[-1] == g.ProgressStage.DONE, stages
        assert g.ProgressStage.PURPOSE_CREDENTIALS in stages, stages
        fresh = await wallet.present(state["id"], TRAFFIC, ONE_WAY)
        assert fresh.source.is_purpose_credential() and fresh.source.left == result.added - 1
        assert issuer_jwt(fresh.presentation) not in state["seen"]
        assert verifier.verify_qr_text(fresh.qr_text).valid

    async def delete():
        await wallet.delete(state["id"])
        assert keys.aliases == set(), len(keys.aliases)

    checks = [
        ("receive brings the licence and a batch of each purpose, one key per credential", receive),
        ("traffic_stop shown twice: two purpose credentials, both verify", shown_twice),
        ("when none is left, the fallback is said in Vietnamese and English", fallback),
        ("refill brings a new batch by the refresh token, reporting progress", refill),
        ("delete removes the document and every key it had", delete),
    ]
    return await run_checks("python purposes", checks)


sys.exit(0 if asyncio.run(run()) == 0 else 1)
