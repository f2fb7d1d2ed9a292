"""Runs the giayto Python package (the wheel maturin builds, installed with pip) against a
running giayto-server, through its asyncio API: receive a driving licence through an async
HttpClient written in Python, present it as a QR, verify it offline, and cancel calls while
they wait on the network and on the holder key.

Run by scripts/test-bindings.sh (which builds and installs the wheel in a venv, starts the
server and publishes the licences); prints "python: N passed, M failed".
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

CHECKS = []
# Generous bound on waiting for a callback to be reached: a hang fails instead of blocking.
PATIENCE_SECONDS = 120


def check(name):
    def wrap(body):
        CHECKS.append((name, body))
        return body

    return wrap


class UrllibHttpClient(g.HttpClient):
    """The app's HTTP stack: urllib, in a worker thread so the event loop never waits on it.
    (An asyncio app would use aiohttp or httpx the same way.)"""

    async def send(self, request):
        return await asyncio.to_thread(self._send, request)

    @staticmethod
    def _send(request):
        req = urllib.request.Request(
            request.url,
            data=bytes(request.body) if request.body else None,
            method=request.method,
            headers={h.name: h.value for h in request.headers},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return _response(resp.status, resp.headers.items(), resp.read())
        except urllib.error.HTTPError as err:
            return _response(err.code, err.headers.items(), err.read())
        except OSError as err:
            raise g.GiaytoError.Network(f"{request.method} {request.url}: {err}") from err


def _response(status, headers, body):
    return g.HttpResponse(
        status=status, headers=[g.HttpHeader(name=n, value=v) for n, v in headers], body=body
    )


async def wait_until_cancelled(cancelled):
    """Waits for ever, as an unanswered request or prompt does; sets `cancelled` when the
    task running it is cancelled."""
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        cancelled.set()
        raise


async def cancel_midway(call, reached, cancelled, while_waiting=lambda: None):
    """Runs `call` as a task and cancels it once `reached` is set (after `while_waiting()`);
    checks that the call ends cancelled and that the callback it waited on was cancelled
    (`cancelled` set)."""
    task = asyncio.create_task(call)
    await asyncio.wait_for(reached.wait(), PATIENCE_SECONDS)
    while_waiting()
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    else:
        raise AssertionError("the call finished")
    await asyncio.wait_for(cancelled.wait(), PATIENCE_SECONDS)


class HoldingHttpClient(g.HttpClient):
    """Passes requests on, except the first one `stop` picks, which it holds until its task
    is cancelled: a request still in flight when the app cancels."""

    def __init__(self, inner, stop):
        self.inner, self.stop = inner, stop
        self.held, self.cancelled = asyncio.Event(), asyncio.Event()

    async def send(self, request):
        if self.held.is_set() or not self.stop(request):
            return await self.inner.send(request)
        self.held.set()
        await wait_until_cancelled(self.cancelled)


class ListedKeyStore(g.KeyStore):
    """The in-memory key store, listing its aliases; its keys can be made to wait for a
    "biometric prompt" nobody answers."""

    def __init__(self):
        self.inner, self.aliases = g.software_key_store(), []
        self.prompting = False
        self.prompted, self.prompt_cancelled = asyncio.Event(), asyncio.Event()

    def get_or_create_key(self, alias):
        self.aliases.append(alias)
        return self.inner.get_or_create_key(alias)

    def get_key(self, alias):
        key = self.inner.get_key(alias)
        return PromptingKey(self, key) if self.prompting else key

    def delete_key(self, alias):
        self.aliases.remove(alias)
        self.inner.delete_key(alias)


class PromptingKey(g.SigningKey):
    def __init__(self, store, key):
        self.store, self.key = store, key

    def public_jwk(self):
        return self.key.public_jwk()

    async def sign(self, message):
        self.store.prompted.set()
        await wait_until_cancelled(self.store.prompt_cancelled)


class Recorder(g.ProgressListener):
    def __init__(self):
        self.seen = []

    def on_progress(self, progress):
        self.seen.append(progress)


async def trust_anchor():
    """The server's trust anchor (a real verifier app ships it)."""
    request = g.HttpRequest(method="GET", url=f"{SERVER}/trust-anchor.json", headers=[], body=b"")
    return (await HTTP.send(request)).body.decode()


SERVER = os.environ["GIAYTO_SERVER"]
OFFER = os.environ["GIAYTO_OFFER_URI"]
TX_CODE = os.environ["GIAYTO_TX_CODE"]
CANCEL_OFFER = os.environ["GIAYTO_CANCEL_OFFER_URI"]
CANCEL_TX_CODE = os.environ["GIAYTO_CANCEL_TX_CODE"]
HTTP = UrllibHttpClient()
DIR = tempfile.mkdtemp(prefix="giayto-python")
VAULT = os.path.join(DIR, "wallet.vault")
VAULT_KEY = secrets.token_bytes(32)
STATE = {}


@check("the package is the installed wheel, not generated files on a path")
async def _installed():
    assert "site-packages" in g.__file__, g.__file__
    assert os.path.exists(os.path.join(os.path.dirname(g.__file__), "libgiayto_bindings.so"))


@check("catalogue lists every document type with vi/en names")
async def _catalogue():
    types = g.document_types()
    licence = next(t for t in types if t.id == "driving_licence")
    assert licence.name_vi == "Giấy phép lái xe", licence.name_vi
    assert licence.presets[0].name == "full"


@check("garbage image is a typed InvalidInput error")
async def _garbage():
    try:
        g.decode_qr_image(b"not an image")
    except g.GiaytoError.InvalidInput as e:
        assert e.reason
    else:
        raise AssertionError("no exception")


@check("a receive cancelled while its credential request is in flight cancels the request, "
       "deletes its new key, stores nothing")
async def _cancel_receive():
    keys = ListedKeyStore()
    holding = HoldingHttpClient(
        HTTP, lambda r: r.method == "POST" and r.url.endswith("/credential")
    )
    wallet = await g.Wallet.open(VAULT, VAULT_KEY, keys, holding)

    def key_made():
        assert len(keys.aliases) == 1, keys.aliases

    await cancel_midway(
        wallet.receive(CANCEL_OFFER, CANCEL_TX_CODE), holding.held, holding.cancelled, key_made
    )
    assert keys.aliases == [], keys.aliases
    assert wallet.documents() == []
    assert (await g.Wallet.open(VAULT, VAULT_KEY, keys, HTTP)).documents() == []


@check("receive the licence from the server, reporting progress")
async def _receive():
    STATE["keys"] = keys = ListedKeyStore()
    STATE["wallet"] = wallet = await g.Wallet.open(VAULT, VAULT_KEY, keys, HTTP)
    summary = await wallet.inspect_offer(OFFER)
    assert summary.needs_tx_code and summary.issuer == SERVER, summary
    progress = Recorder()
    doc = await wallet.receive(OFFER, TX_CODE, progress)
    assert doc.document_type_id == "driving_licence"
    assert doc.name_en is not None
    claims = {c.path: c for c in doc.claims}
    assert claims["full_name"].value == "Trần Văn Bình"
    assert claims["full_name"].label_vi
    assert [d.id for d in wallet.documents()] == [doc.id]
    stages = [p.stage for p in progress.seen]
    assert stages[0] == g.ProgressStage.CREDENTIAL_OFFER and stages[-1] == g.ProgressStage.DONE, stages
    assert g.ProgressStage.CREDENTIAL in stages and g.ProgressStage.STORING in stages, stages
    assert [p.completed for p in progress.seen] == sorted(p.completed for p in progress.seen)
    # 7 steps, and one per purpose configuration the offer names after the document's.
    steps = 7 + len(summary.credential_configuration_ids) - 1
    assert progress.seen[-1].completed == progress.seen[-1].total == steps
    STATE["id"] = doc.id


@check("a fresh verifier syncs every status list, reporting progress, and checks status offline")
async def _sync():
    fresh = g.Verifier(await trust_anchor(), "csgt:fresh-officer")
    progress = Recorder()
    result = await fresh.sync(f"{SERVER}/trust-list", HTTP, progress)
    assert not result.failures, result.failures
    assert result.downloaded >= 1 and result.downloaded == result.lists, result
    stages = [p.stage for p in progress.seen]
    assert stages[0] == g.ProgressStage.TRUST_LIST and stages[-1] == g.ProgressStage.DONE, stages
    assert stages.count(g.ProgressStage.STATUS_LIST_AGGREGATION) == result.aggregations, stages
    assert stages.count(g.ProgressStage.STATUS_LIST) == result.lists, stages
    assert [p.completed for p in progress.seen] == list(range(result.requests + 1)), progress.seen
    assert progress.seen[-1].total == result.requests, progress.seen
    qr = await STATE["wallet"].present(
        STATE["id"], g.ClaimSelection.PRESET("identity"), g.PresentationMode.ONE_WAY()
    )
    verdict = fresh.verify_qr_text(qr.qr_text)
    assert verdict.valid and verdict.status == g.CredentialStatus.VALID, verdict.errors
    assert verdict.status_checked_at is not None and 0 <= verdict.status_age_seconds < 600
    again = await fresh.sync(f"{SERVER}/trust-list", HTTP)
    assert again.downloaded == 0 and again.not_modified == result.downloaded, again


@check("the verifier loads the trust list and the status list over HTTP")
async def _trust():
    verifier = STATE["verifier"] = g.Verifier(await trust_anchor(), "bv:test-desk")
    await verifier.refresh_trust_list(f"{SERVER}/trust-list", HTTP)
    qr = await STATE["wallet"].present(
        STATE["id"], g.ClaimSelection.PRESET("identity"), g.PresentationMode.ONE_WAY()
    )
    first = verifier.verify_qr_text(qr.qr_text)
    assert first.status == g.CredentialStatus.LIST_MISSING, first.status
    missing = verifier.missing_status_lists()
    lists = Recorder()
    assert await verifier.refresh_status_lists(HTTP, lists) == 1
    assert [(p.stage, p.item, p.completed) for p in lists.seen] == [
        (g.ProgressStage.STATUS_LIST, missing[0], 0),
        (g.ProgressStage.DONE, None, 1),
    ], lists.seen


@check("a one-way identity QR verifies offline with labelled claims")
async def _verify():
    verifier = STATE["verifier"]
    qr = await STATE["wallet"].present(
        STATE["id"], g.ClaimSelection.PRESET("identity"), g.PresentationMode.ONE_WAY()
    )
    assert qr.qr_text.startswith("GT2:")
    result = verifier.verify_image(qr.png)
    assert result.valid, result.errors
    assert result.status == g.CredentialStatus.VALID
    assert result.document_name_en and result.issuer_name_vi
    assert isinstance(result.holder_binding, g.HolderBindingState.VERIFIED)
    assert any(c.path == "full_name" and c.label_en for c in result.claims)
    replay = verifier.verify_qr_text(qr.qr_text)
    assert not replay.valid and any(e.code == "replayed" for e in replay.errors)


@check("two-way: the wallet answers the verifier's challenge")
async def _two_way():
    verifier = STATE["verifier"]
    challenge = verifier.new_challenge(120)
    qr = await STATE["wallet"].present(
        STATE["id"],
        g.ClaimSelection.CLAIMS(["age_equal_or_over/18"]),
        g.PresentationMode.ANSWER_CHALLENGE(challenge),
    )
    result = verifier.verify_qr_text(qr.qr_text)
    assert result.valid, result.errors
    assert result.holder_binding.audience == "bv:test-desk"


@check("a presentation cancelled while the key waits for the user leaves nothing behind")
async def _cancel_present():
    keys, wallet = STATE["keys"], STATE["wallet"]
    keys.prompting = True
    try:
        call = wallet.present(
            STATE["id"], g.ClaimSelection.PRESET("full"), g.PresentationMode.ONE_WAY()
        )
        await cancel_midway(call, keys.prompted, keys.prompt_cancelled)
    finally:
        keys.prompting = False
    holder_keys = [a for a in keys.aliases if a.startswith("giayto-holder-")]
    assert len(holder_keys) == 1 and len(wallet.documents()) == 1
    qr = await wallet.present(
        STATE["id"], g.ClaimSelection.PRESET("traffic_stop"), g.PresentationMode.ONE_WAY()
    )
    assert qr.qr_text.startswith("GT2:")


@check("delete removes the document")
async def _delete():
    wallet = STATE["wallet"]
    await wallet.delete(STATE["id"])
    assert wallet.documents() == []
    assert STATE["keys"].aliases == []
    try:
        wallet.document(STATE["id"])
    except g.GiaytoError.NotFound:
        pass
    else:
        raise AssertionError("still there")


async def main():
    return await run_checks("python", CHECKS)


sys.exit(0 if asyncio.run(main()) == 0 else 1)
