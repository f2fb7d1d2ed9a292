"""Runs the generated Python bindings against the real libgiayto_bindings: receive a driving
licence from a running giayto-server through an HttpClient written in Python, present it as
a QR, verify it offline.

Run by scripts/test-bindings.sh (which starts the server and publishes the licence); prints
"python: N passed, M failed".
"""

import os
import secrets
import sys
import tempfile
import traceback
import urllib.error
import urllib.request

import giayto_bindings as g

RESULTS = {"passed": 0, "failed": 0}


def check(name):
    def wrap(body):
        try:
            body()
            RESULTS["passed"] += 1
            print(f"ok   {name}")
        except Exception:  # noqa: BLE001 - every failure is reported, then counted
            RESULTS["failed"] += 1
            print(f"FAIL {name}")
            traceback.print_exc()
        return body

    return wrap


class UrllibHttpClient(g.HttpClient):
    """The app's HTTP stack, here urllib."""

    def send(self, request):
        req = urllib.request.Request(
            request.url,
            data=bytes(request.body) if request.body else None,
            method=request.method,
            headers={h.name: h.value for h in request.headers},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return self._response(resp.status, resp.headers.items(), resp.read())
        except urllib.error.HTTPError as err:
            return self._response(err.code, err.headers.items(), err.read())
        except OSError as err:
            raise g.GiaytoError.Network(f"{request.method} {request.url}: {err}") from err

    @staticmethod
    def _response(status, headers, body):
        return g.HttpResponse(
            status=status, headers=[g.HttpHeader(name=n, value=v) for n, v in headers], body=body
        )


SERVER = os.environ["GIAYTO_SERVER"]
OFFER = os.environ["GIAYTO_OFFER_URI"]
TX_CODE = os.environ["GIAYTO_TX_CODE"]
HTTP = UrllibHttpClient()
KEYS = g.software_key_store()
DIR = tempfile.mkdtemp(prefix="giayto-python")
VAULT_KEY = secrets.token_bytes(32)
WALLET = g.Wallet.open(os.path.join(DIR, "wallet.vault"), VAULT_KEY, KEYS, HTTP)
ANCHOR = urllib.request.urlopen(f"{SERVER}/trust-anchor.json", timeout=30).read().decode()
VERIFIER = g.Verifier(ANCHOR, "bv:test-desk")
STATE = {}


@check("catalogue lists every document type with vi/en names")
def _catalogue():
    types = g.document_types()
    licence = next(t for t in types if t.id == "driving_licence")
    assert licence.name_vi == "Giấy phép lái xe", licence.name_vi
    assert licence.presets[0].name == "full"


@check("garbage image is a typed InvalidInput error")
def _garbage():
    try:
        g.decode_qr_image(b"not an image")
    except g.GiaytoError.InvalidInput as e:
        assert e.reason
    else:
        raise AssertionError("no exception")


@check("receive the licence from the server")
def _receive():
    summary = WALLET.inspect_offer(OFFER)
    assert summary.needs_tx_code and summary.issuer == SERVER, summary
    doc = WALLET.receive(OFFER, TX_CODE)
    assert doc.document_type_id == "driving_licence"
    assert doc.name_en is not None
    claims = {c.path: c for c in doc.claims}
    assert claims["full_name"].value == "Trần Văn Bình"
    assert claims["full_name"].label_vi
    assert [d.id for d in WALLET.documents()] == [doc.id]
    STATE["id"] = doc.id


@check("a fresh verifier syncs every status list and checks status offline")
def _sync():
    fresh = g.Verifier(ANCHOR, "csgt:fresh-officer")
    result = fresh.sync(f"{SERVER}/trust-list", HTTP)
    assert not result.failures, result.failures
    assert result.downloaded >= 1 and result.downloaded == result.lists, result
    qr = WALLET.present(STATE["id"], g.ClaimSelection.PRESET("identity"), g.PresentationMode.ONE_WAY())
    verdict = fresh.verify_qr_text(qr.qr_text)
    assert verdict.valid and verdict.status == g.CredentialStatus.VALID, verdict.errors
    assert verdict.status_checked_at is not None and 0 <= verdict.status_age_seconds < 600
    again = fresh.sync(f"{SERVER}/trust-list", HTTP)
    assert again.downloaded == 0 and again.not_modified == result.downloaded, again


@check("the verifier loads the trust list and the status list over HTTP")
def _trust():
    VERIFIER.refresh_trust_list(f"{SERVER}/trust-list", HTTP)
    qr = WALLET.present(STATE["id"], g.ClaimSelection.PRESET("identity"), g.PresentationMode.ONE_WAY())
    first = VERIFIER.verify_qr_text(qr.qr_text)
    assert first.status == g.CredentialStatus.LIST_MISSING, first.status
    assert VERIFIER.refresh_status_lists(HTTP) == 1


@check("a one-way identity QR verifies offline with labelled claims")
def _verify():
    qr = WALLET.present(STATE["id"], g.ClaimSelection.PRESET("identity"), g.PresentationMode.ONE_WAY())
    assert qr.qr_text.startswith("GT2:")
    result = VERIFIER.verify_image(qr.png)
    assert result.valid, result.errors
    assert result.status == g.CredentialStatus.VALID
    assert result.document_name_en and result.issuer_name_vi
    assert isinstance(result.holder_binding, g.HolderBindingState.VERIFIED)
    assert any(c.path == "full_name" and c.label_en for c in result.claims)
    replay = VERIFIER.verify_qr_text(qr.qr_text)
    assert not replay.valid and any(e.code == "replayed" for e in replay.errors)


@check("two-way: the wallet answers the verifier's challenge")
def _two_way():
    challenge = VERIFIER.new_challenge(120)
    qr = WALLET.present(
        STATE["id"],
        g.ClaimSelection.CLAIMS(["age_equal_or_over/18"]),
        g.PresentationMode.ANSWER_CHALLENGE(challenge),
    )
    result = VERIFIER.verify_qr_text(qr.qr_text)
    assert result.valid, result.errors
    assert result.holder_binding.audience == "bv:test-desk"


@check("delete removes the document")
def _delete():
    WALLET.delete(STATE["id"])
    assert WALLET.documents() == []
    try:
        WALLET.document(STATE["id"])
    except g.GiaytoError.NotFound:
        pass
    else:
        raise AssertionError("still there")


print(f"python: {RESULTS['passed']} passed, {RESULTS['failed']} failed")
sys.exit(0 if RESULTS["failed"] == 0 else 1)
