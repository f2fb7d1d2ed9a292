// The Kotlin wallet answers an online presentation request (OpenID4VP 1.0 / HAIP 1.0)
// through the generated bindings: a licence received from a running giayto-server, a
// verifier registered on that server's trust list (registrar CA and leaf made with openssl,
// registered with `giayto-server verifier`), and the independent npm verifier
// (tests/interop/openid4vp) asking for two claims. inspectRequest gives the consent screen
// what it shows; respond signs with the Kotlin key store and posts; a cancelled
// inspectRequest stops at its request. Built and run by its own block in
// scripts/test-bindings.sh, which also checks the npm verifier accepted the answer; prints
// "kotlin-presentation: N passed, M failed".
import vn.giayto.*
import vn.giayto.demo.FileKeyStore
import vn.giayto.demo.JdkHttpClient
import java.net.InetAddress
import java.net.ServerSocket
import java.net.URLEncoder
import java.nio.file.Files
import java.security.SecureRandom
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlin.system.exitProcess

fun main(): Unit = runBlocking {
    val server = env("GIAYTO_SERVER")
    val requestUri = env("GIAYTO_VP_REQUEST")
    val http = JdkHttpClient()
    val dir = Files.createTempDirectory("giayto-kotlin-vp")
    val keyStore = FileKeyStore(dir.resolve("keys"))
    val vaultKey = ByteArray(32).also { SecureRandom().nextBytes(it) }
    val wallet = Wallet.open(dir.resolve("wallet.vault").toString(), vaultKey, keyStore, http)
    val licence = wallet.receive(env("GIAYTO_OFFER_URI"), env("GIAYTO_TX_CODE"))
    val anchor = http.getText("$server/trust-anchor.json")
    val trustList = http.getText("$server/trust-list")
    lateinit var request: PresentationRequest

    check("inspectRequest names the registered verifier and lists what would be shared, labelled") {
        request = wallet.inspectRequest(requestUri, trustList, anchor, true)
        val info = request.info()
        expect(info.verifierNameVi == "Bệnh viện Bạch Mai" && info.verifierNameEn == "Bach Mai Hospital") { "$info" }
        expect(info.registration == "within" && info.warnings.isEmpty()) { "$info" }
        expect(info.clientId.startsWith("x509_hash:")) { info.clientId }
        expect(info.responseHost == "127.0.0.1") { info.responseHost }
        val document = info.documents.single()
        expect(document.documentId == licence.id && !document.purposeCredential && !document.optional) { "$document" }
        expect(document.claims.map { it.path } == listOf("family_name", "given_name")) { "${document.claims}" }
        val family = document.claims.first()
        expect(family.value == "Trần" && family.labelEn == "Family name" && family.labelVi != null) { "$family" }
    }

    check("respond signs with the Kotlin key store, posts the answer and returns the verifier's redirect") {
        val outcome = wallet.respond(request, PresentationConsent.SHARE_REQUIRED)
        expect(outcome.shared) { "$outcome" }
        expect(outcome.redirectUri == "https://verifier.example/done") { "$outcome" }
    }

    check("a request is answered once") {
        try {
            wallet.respond(request, PresentationConsent.SHARE_REQUIRED)
            throw AssertionError("answered twice")
        } catch (e: GiaytoException.InvalidInput) {
            expect(e.reason.contains("already answered")) { e.reason }
        }
    }

    check("a request from a verifier whose request object never comes is cancellable") {
        ServerSocket(0, 1, InetAddress.getLoopbackAddress()).use { silent ->
            val uri = "openid4vp://?client_id=x509_hash%3Aabc&request_uri=" +
                URLEncoder.encode("http://127.0.0.1:${silent.localPort}/request", Charsets.UTF_8)
            val job = launch { wallet.inspectRequest(uri, trustList, anchor, false) }
            // The request object's GET arrived: the call is waiting for the network.
            val connection = withContext(Dispatchers.IO) { silent.accept() }
            job.cancel()
            job.join()
            expect(job.isCancelled) { "not cancelled" }
            connection.close()
        }
    }

    println("kotlin-presentation: $passed passed, $failed failed")
    exitProcess(if (failed == 0) 0 else 1)
}
