// Runs the generated Kotlin bindings against the real libgiayto_bindings on the JVM: the
// holder's journey (receive a driving licence from a running giayto-server, list it, present
// it as a QR) and the officer's (verify it offline), through the suspend API on
// kotlinx-coroutines, with KeyStore and an async HttpClient implemented in Kotlin
// (mobile-demo/kotlin/src/Platform.kt, compiled with this file), including cancelled calls.
// Built and run by scripts/test-bindings.sh, which starts the server and publishes the
// licences; prints "kotlin: N passed, M failed".

import vn.giayto.*
import vn.giayto.demo.FileKeyStore
import vn.giayto.demo.JdkHttpClient
import vn.giayto.demo.derToRaw
import java.nio.file.Files
import java.security.SecureRandom
import java.util.Collections
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlin.system.exitProcess

private inline fun <reified E : Throwable> expectThrows(body: () -> Unit): E {
    try {
        body()
    } catch (e: Throwable) {
        if (e is E) return e
        throw AssertionError("expected ${E::class.simpleName}, got $e")
    }
    throw AssertionError("expected ${E::class.simpleName}, nothing thrown")
}

/** A key store whose keys fail the way a buggy platform implementation might. */
class BrokenKeyStore(private val declared: Boolean) : KeyStore {
    override fun getOrCreateKey(alias: String): SigningKey = getKey(alias)
    override fun getKey(alias: String): SigningKey =
        if (declared) throw GiaytoException.KeyStore("user cancelled the biometric prompt")
        else throw IllegalStateException("keystore crashed")
    override fun deleteKey(alias: String) {}
}

/** Waits for ever, as an unanswered request or prompt does; completes `cancelled` when its coroutine is cancelled. */
private suspend fun waitUntilCancelled(cancelled: CompletableDeferred<Unit>): Nothing {
    try {
        suspendCancellableCoroutine<Nothing> { }
    } catch (e: CancellationException) {
        cancelled.complete(Unit)
        throw e
    }
}

/**
 * Runs `call` in a new coroutine and cancels it once `reached` completes (after
 * `whileWaiting`); checks that it ends cancelled and that the callback it waited on was
 * cancelled (`cancelled` completes).
 */
private suspend fun cancelMidway(
    reached: CompletableDeferred<*>,
    cancelled: CompletableDeferred<Unit>,
    whileWaiting: () -> Unit = {},
    call: suspend () -> Unit,
) {
    coroutineScope {
        val job = launch { call() }
        reached.await()
        whileWaiting()
        job.cancel()
        job.join()
        expect(job.isCancelled) { "not cancelled" }
    }
    cancelled.await()
}

/**
 * An HttpClient that passes requests to `inner`, except the first one `stop` picks, which it
 * holds until its coroutine is cancelled: a request still in flight when the app cancels.
 */
class HoldingHttpClient(private val inner: HttpClient, private val stop: (HttpRequest) -> Boolean) : HttpClient {
    /** Completed when the held request arrives. */
    val held = CompletableDeferred<HttpRequest>()
    /** Completed when the held request's coroutine is cancelled. */
    val requestCancelled = CompletableDeferred<Unit>()

    override suspend fun send(request: HttpRequest): HttpResponse {
        if (held.isCompleted || !stop(request)) return inner.send(request)
        held.complete(request)
        waitUntilCancelled(requestCancelled)
    }
}

/** A key store whose keys wait for a "biometric prompt" the user never answers. */
class PromptingKeyStore(private val inner: KeyStore) : KeyStore by inner {
    val prompted = CompletableDeferred<Unit>()
    val promptCancelled = CompletableDeferred<Unit>()

    override fun getKey(alias: String): SigningKey {
        val key = inner.getKey(alias)
        return object : SigningKey {
            override fun publicJwk(): String = key.publicJwk()
            override suspend fun sign(message: ByteArray): ByteArray {
                prompted.complete(Unit)
                waitUntilCancelled(promptCancelled)
            }
        }
    }
}

/** Collects progress reports. */
class Recorder : ProgressListener {
    val seen: MutableList<ProgressReport> = Collections.synchronizedList(mutableListOf())
    override fun onProgress(progress: ProgressReport) {
        seen.add(progress)
    }
}

fun main(): Unit = runBlocking {
    val server = env("GIAYTO_SERVER")
    val offerUri = env("GIAYTO_OFFER_URI")
    val txCode = env("GIAYTO_TX_CODE")
    val cancelOfferUri = env("GIAYTO_CANCEL_OFFER_URI")
    val cancelTxCode = env("GIAYTO_CANCEL_TX_CODE")
    val http = JdkHttpClient()
    val dir = Files.createTempDirectory("giayto-kotlin")
    val keyStore = FileKeyStore(dir.resolve("keys"))
    val vaultKey = ByteArray(32).also { SecureRandom().nextBytes(it) }
    val wallet = Wallet.open(dir.resolve("wallet.vault").toString(), vaultKey, keyStore, http)
    val anchor = http.getText("$server/trust-anchor.json")
    val verifier = Verifier(anchor, "csgt:test-officer")
    lateinit var licence: DocumentInfo

    check("catalogue lists every document type with vi/en names and presets") {
        val types = documentTypes()
        expect(types.size >= 6) { "only ${types.size} types" }
        val t = types.first { it.id == "driving_licence" }
        expect(t.nameVi == "Giấy phép lái xe") { "name_vi ${t.nameVi}" }
        expect(t.presets.first().name == "full") { "first preset ${t.presets.first().name}" }
    }

    check("DER signatures convert to r||s; garbage is a KeyStore error") {
        val der = byteArrayOf(0x30, 8, 0x02, 2, 0x00, 0x7f, 0x02, 2, 0x01, 0x02)
        val raw = derToRaw(der)
        expect(raw.size == 64 && raw[31] == 0x7f.toByte() && raw[62] == 1.toByte() && raw[63] == 2.toByte()) { raw.contentToString() }
        expectThrows<GiaytoException.KeyStore> { derToRaw(byteArrayOf(0x30, 1, 2)) }
    }

    check("garbage image is a typed InvalidInput exception") {
        val e = expectThrows<GiaytoException.InvalidInput> { decodeQrImage("not an image".toByteArray()) }
        expect(e.reason.isNotEmpty()) { "empty reason" }
    }

    check("a vault key of the wrong size is refused") {
        expectThrows<GiaytoException.InvalidInput> {
            Wallet.open(dir.resolve("x.vault").toString(), ByteArray(16), keyStore, http)
        }
    }

    check("the offer asks for a numeric transaction code") {
        val summary = wallet.inspectOffer(offerUri)
        expect(summary.needsTxCode && summary.txCodeNumeric) { "$summary" }
        expect(summary.issuer == server) { "issuer ${summary.issuer}" }
    }

    check("a wrong transaction code is refused by the issuer and leaves no key behind") {
        val wrong = if (txCode.startsWith("0")) "1" + txCode.drop(1) else "0" + txCode.drop(1)
        expectThrows<GiaytoException.IssuerRefused> { wallet.receive(offerUri, wrong) }
        expect(keyStore.aliases().isEmpty()) { "keys left: ${keyStore.aliases()}" }
    }

    check("a receive cancelled while its credential request is in flight cancels the request, deletes its new key, stores nothing") {
        val holding = HoldingHttpClient(http) { it.method == "POST" && it.url.endsWith("/credential") }
        val w = Wallet.open(dir.resolve("wallet.vault").toString(), vaultKey, keyStore, holding)
        cancelMidway(holding.held, holding.requestCancelled, {
            // The holder key was made and has signed the proof the held request carries.
            expect(keyStore.aliases().size == 1) { "keys while waiting: ${keyStore.aliases()}" }
        }) { w.receive(cancelOfferUri, cancelTxCode) }
        expect(keyStore.aliases().isEmpty()) { "keys left: ${keyStore.aliases()}" }
        expect(w.documents().isEmpty()) { "stored: ${w.documents()}" }
        expect(Wallet.open(dir.resolve("wallet.vault").toString(), vaultKey, keyStore, http).documents().isEmpty()) { "vault written" }
    }

    val progress = Recorder()
    check("receive the licence from the server, with a key from the Kotlin key store, reporting progress") {
        val offered = wallet.inspectOffer(offerUri).credentialConfigurationIds.size
        licence = wallet.receive(offerUri, txCode, progress)
        // 7 steps, and one per purpose configuration the offer names after the document's
        // (counted once the offer, given by reference, is read).
        val steps = (7 + offered - 1).toUInt()
        val stages = progress.seen.map { it.stage }
        expect(stages.first() == ProgressStage.CREDENTIAL_OFFER && stages.last() == ProgressStage.DONE) { "$stages" }
        expect(stages.containsAll(listOf(ProgressStage.TOKEN, ProgressStage.CREDENTIAL, ProgressStage.STORING))) { "$stages" }
        expect(progress.seen.zipWithNext().all { (a, b) -> a.completed <= b.completed }) { "${progress.seen}" }
        expect(progress.seen.drop(1).all { it.total == steps } && progress.seen.last().completed == steps) { "${progress.seen}" }
        expect(licence.documentTypeId == "driving_licence") { "type ${licence.documentTypeId}" }
        expect(licence.nameVi == "Giấy phép lái xe" && licence.nameEn != null) { "names" }
        val name = licence.claims.first { it.path == "full_name" }
        expect(name.value == "Trần Văn Bình" && name.labelVi != null) { "$name" }
        expect(keyStore.aliases().count { it.startsWith("giayto-holder-") } == 1) { "one holder key per document" }
        expect(wallet.documents().map { it.id } == listOf(licence.id)) { "listing" }
    }

    check("a fresh verifier syncs from the anchor alone, reporting progress, then verifies offline a credential it never saw") {
        val fresh = Verifier(anchor, "csgt:fresh-officer")
        val steps = Recorder()
        val sync = fresh.sync("$server/trust-list", http, steps)
        val stages = steps.seen.map { it.stage }
        expect(stages.first() == ProgressStage.TRUST_LIST && stages.last() == ProgressStage.DONE) { "$stages" }
        expect(stages.count { it == ProgressStage.STATUS_LIST_AGGREGATION }.toUInt() == sync.aggregations) { "$stages" }
        expect(stages.count { it == ProgressStage.STATUS_LIST }.toUInt() == sync.lists) { "$stages" }
        expect(steps.seen.map { it.completed } == (0u..sync.requests).toList()) { "${steps.seen}" }
        expect(steps.seen.last().total == sync.requests) { "${steps.seen}" }
        expect(sync.failures.isEmpty()) { "${sync.failures}" }
        expect(sync.issuers >= 3u && sync.aggregations == sync.issuers) { "$sync" }
        expect(sync.downloaded >= 1u && sync.downloaded == sync.lists) { "$sync" }
        // Verification takes no HttpClient: it runs on what the sync stored, on a verifier
        // restored from the saved state as after a restart with no network.
        val offline = Verifier(anchor, "csgt:fresh-officer")
        offline.loadTrustList(sync.trustListToken)
        offline.importStatusCache(fresh.exportStatusCache())
        val qr = wallet.present(licence.id, ClaimSelection.Preset("traffic_stop"), PresentationMode.OneWay)
        val r = offline.verifyQrText(qr.qrText)
        expect(r.valid && r.status == CredentialStatus.VALID) { "${r.status} ${r.errors}" }
        expect(r.statusCheckedAt != null && r.statusAgeSeconds!! in 0L..600L) { "age ${r.statusAgeSeconds}" }
        expect(offline.missingStatusLists().isEmpty()) { "${offline.missingStatusLists()}" }
        // The next sync sends the validators back: nothing changed, nothing downloaded.
        val again = offline.sync("$server/trust-list", http)
        expect(again.downloaded == 0u && again.notModified == sync.downloaded) { "$again" }
    }

    check("the verifier loads the trust list through the Kotlin HttpClient") {
        val token = verifier.refreshTrustList("$server/trust-list", http)
        expect(token.count { it == '.' } == 2) { "not a JWT" }
    }

    check("a cancelled trust-list refresh closes its HTTP connection and keeps the list it had") {
        // A server that reads the request and never answers: the JDK client's connection
        // must be closed when the call is cancelled (the request is not left running). The
        // client's own request timeout is far beyond the read bound below, so only the
        // cancellation can close it in time.
        val patient = JdkHttpClient(requestTimeout = java.time.Duration.ofMinutes(30))
        java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress()).use { silent ->
            val before = verifier.trustListToken()
            val accepted = CompletableDeferred<java.net.Socket>()
            Thread { accepted.complete(silent.accept()) }.apply { isDaemon = true }.start()
            coroutineScope {
                val call = launch { verifier.refreshTrustList("http://127.0.0.1:${silent.localPort}/trust-list", patient) }
                val socket = accepted.await()
                socket.soTimeout = 60_000 // generous: a hang fails instead of blocking the run
                val input = socket.getInputStream()
                withContext(Dispatchers.IO) {
                    val head = StringBuilder()
                    while (!head.endsWith("\r\n\r\n")) {
                        val byte = input.read()
                        if (byte < 0) throw AssertionError("closed before the request arrived: $head")
                        head.append(byte.toChar())
                    }
                }
                call.cancel()
                call.join()
                expect(call.isCancelled) { "not cancelled" }
                val closed = withContext(Dispatchers.IO) {
                    try { input.read() == -1 } catch (e: java.net.SocketException) { true }
                }
                expect(closed) { "the connection is still open" }
                socket.close()
            }
            expect(verifier.trustListToken() == before) { "the trust list changed" }
        }
    }

    check("without its status list a presentation is refused and the list is named") {
        val qr = wallet.present(licence.id, ClaimSelection.Preset("traffic_stop"), PresentationMode.OneWay)
        val result = verifier.verifyQrText(qr.qrText)
        expect(!result.valid && result.status == CredentialStatus.LIST_MISSING) { "$result" }
        expect(verifier.missingStatusLists().size == 1) { "${verifier.missingStatusLists()}" }
        val listed = verifier.missingStatusLists()
        val lists = Recorder()
        expect(verifier.refreshStatusLists(http, lists) == 1u) { "refresh" }
        expect(verifier.missingStatusLists().isEmpty()) { "still missing" }
        expect(lists.seen.map { it.stage } == listOf(ProgressStage.STATUS_LIST, ProgressStage.DONE)) { "${lists.seen}" }
        expect(lists.seen[0].item == listed[0] && lists.seen[0].completed == 0u && lists.seen[1].completed == 1u) { "${lists.seen}" }
    }

    lateinit var oneWay: PresentationQr
    check("a one-way traffic-stop QR verifies offline with labelled claims") {
        oneWay = wallet.present(licence.id, ClaimSelection.Preset("traffic_stop"), PresentationMode.OneWay)
        expect(oneWay.qrText.startsWith("GT2:")) { oneWay.qrText.take(8) }
        expect(decodeQrImage(oneWay.png) == oneWay.qrText) { "PNG does not hold the QR text" }
        val r = verifier.verifyImage(oneWay.png)
        expect(r.valid) { "errors ${r.errors}" }
        expect(r.status == CredentialStatus.VALID) { "${r.status}" }
        expect(r.documentNameVi == "Giấy phép lái xe" && r.issuerNameVi != null) { "${r.documentNameVi} ${r.issuerNameVi}" }
        val binding = r.holderBinding
        expect(binding is HolderBindingState.Verified && binding.audience == "giayto:offline") { "$binding" }
        expect(r.claims.any { it.path.startsWith("driving_privileges") && it.labelEn != null }) { "${r.claims.map { it.path }}" }
        expect(r.claims.none { it.path == "place_of_residence" }) { "traffic stop shows the address" }
    }

    check("a restarted verifier works offline from the stored trust list and status cache") {
        val restarted = Verifier(anchor, "csgt:test-officer")
        restarted.loadTrustList(verifier.trustListToken()!!)
        restarted.importStatusCache(verifier.exportStatusCache())
        val qr = wallet.present(licence.id, ClaimSelection.Preset("traffic_stop"), PresentationMode.OneWay)
        val r = restarted.verifyQrText(qr.qrText)
        expect(r.valid && r.status == CredentialStatus.VALID) { "${r.status} ${r.errors}" }
        expectThrows<GiaytoException.InvalidInput> { restarted.importStatusCache("{not json") }
    }

    check("the same QR shown twice is refused as a replay") {
        val r = verifier.verifyQrText(oneWay.qrText)
        expect(!r.valid && r.errors.any { it.code == "replayed" }) { "${r.errors}" }
    }

    check("two-way: the wallet answers the verifier's challenge") {
        val challenge = verifier.newChallenge(120u)
        expect(challenge.startsWith("GTC1:")) { challenge }
        val qr = wallet.present(licence.id, ClaimSelection.Claims(listOf("age_equal_or_over/18")),
            PresentationMode.AnswerChallenge(challenge))
        val r = verifier.verifyQrText(qr.qrText)
        expect(r.valid) { "errors ${r.errors}" }
        val binding = r.holderBinding
        expect(binding is HolderBindingState.Verified && binding.audience == "csgt:test-officer") { "$binding" }
        expect(r.claims.none { it.path == "birth_date" }) { "birth date disclosed" }
    }

    check("a one-way QR is refused while a challenge is pending") {
        verifier.newChallenge(120u)
        val qr = wallet.present(licence.id, ClaimSelection.Preset("traffic_stop"), PresentationMode.OneWay)
        val r = verifier.verifyQrText(qr.qrText)
        expect(!r.valid) { "accepted" }
        verifier.cancelChallenge()
    }

    check("the paper form verifies as not bound to a device") {
        val qr = wallet.present(licence.id, ClaimSelection.Preset("identity"), PresentationMode.Paper)
        expect(qr.qrText.startsWith("GTP2:")) { qr.qrText.take(8) }
        val r = verifier.verifyQrText(qr.qrText)
        expect(r.paperForm && r.holderBinding is HolderBindingState.NotBound) { "$r" }
        expect(r.valid) { "errors ${r.errors}" }
    }

    check("a tampered QR is refused, never a crash") {
        val qr = wallet.present(licence.id, ClaimSelection.Preset("traffic_stop"), PresentationMode.OneWay).qrText
        val i = qr.length / 2
        val tampered = qr.substring(0, i) + (if (qr[i] == 'A') 'B' else 'A') + qr.substring(i + 1)
        try {
            val r = verifier.verifyQrText(tampered)
            expect(!r.valid) { "tampered QR accepted" }
        } catch (e: GiaytoException.InvalidInput) {
            // Also fine: the packed form did not even decode.
        }
    }

    check("a challenge QR scanned by the verifier is an InvalidInput error") {
        expectThrows<GiaytoException.InvalidInput> { verifier.verifyQrText(verifier.newChallenge(60u)) }
        verifier.cancelChallenge()
    }

    check("a key store that throws its declared error arrives as KeyStore") {
        val w = Wallet.open(dir.resolve("wallet.vault").toString(), vaultKey, BrokenKeyStore(true), http)
        val e = expectThrows<GiaytoException.KeyStore> {
            w.present(licence.id, ClaimSelection.Preset("full"), PresentationMode.OneWay)
        }
        expect(e.reason.contains("biometric")) { e.reason }
    }

    check("a key store that throws anything else arrives as Callback, not a crash") {
        val w = Wallet.open(dir.resolve("wallet.vault").toString(), vaultKey, BrokenKeyStore(false), http)
        expectThrows<GiaytoException.Callback> {
            w.present(licence.id, ClaimSelection.Preset("full"), PresentationMode.OneWay)
        }
    }

    check("a presentation cancelled while the key waits for the user leaves nothing behind") {
        val prompting = PromptingKeyStore(keyStore)
        val w = Wallet.open(dir.resolve("wallet.vault").toString(), vaultKey, prompting, http)
        cancelMidway(prompting.prompted, prompting.promptCancelled) {
            w.present(licence.id, ClaimSelection.Preset("full"), PresentationMode.OneWay)
        }
        expect(keyStore.aliases().count { it.startsWith("giayto-holder-") } == 1 && w.documents().size == 1) { "the wallet changed" }
        // The wallet still presents afterwards.
        val qr = wallet.present(licence.id, ClaimSelection.Preset("traffic_stop"), PresentationMode.OneWay)
        expect(qr.qrText.startsWith("GT2:")) { qr.qrText.take(8) }
    }

    check("an unknown preset is NotFound") {
        expectThrows<GiaytoException.NotFound> {
            wallet.present(licence.id, ClaimSelection.Preset("no_such_preset"), PresentationMode.OneWay)
        }
    }

    check("the vault reopens with its key and refuses another key") {
        val again = Wallet.open(dir.resolve("wallet.vault").toString(), vaultKey, keyStore, http)
        expect(again.documents().size == 1) { "reopened vault lost the document" }
        expectThrows<GiaytoException.Storage> {
            Wallet.open(dir.resolve("wallet.vault").toString(), ByteArray(32), keyStore, http)
        }
    }

    check("delete removes the document and its key") {
        wallet.delete(licence.id)
        expect(wallet.documents().isEmpty()) { "still listed" }
        expect(keyStore.aliases().isEmpty()) { "key left" }
        expectThrows<GiaytoException.NotFound> { wallet.document(licence.id) }
    }

    println("kotlin: $passed passed, $failed failed")
    exitProcess(if (failed == 0) 0 else 1)
}
