// Purpose credentials through the generated Kotlin bindings against a running
// giayto-server: the wallet receives the licence with its batches (one key-store key per
// credential), shows traffic_stop from a new credential each time (two QR bodies with nothing
// of the issuer's signature in common, both verified by the bindings' Verifier, which names
// the purpose), says the fallback in Vietnamese and English once the preset runs out, and
// refills it with the refresh token. Built and run by scripts/test-bindings.sh, which starts
// the server and publishes the licence; prints "kotlin purposes: N passed, M failed".

import vn.giayto.*
import vn.giayto.demo.FileKeyStore
import vn.giayto.demo.JdkHttpClient
import java.nio.file.Files
import java.security.SecureRandom
import kotlinx.coroutines.runBlocking
import kotlin.system.exitProcess

/** The issuer-signed JWT of a compact SD-JWT presentation. */
private fun issuerJwt(presentation: String): String = presentation.substringBefore('~')

fun main(): Unit = runBlocking {
    val server = env("GIAYTO_SERVER")
    val offerUri = env("GIAYTO_PURPOSE_OFFER_URI")
    val txCode = env("GIAYTO_PURPOSE_TX_CODE")
    val http = JdkHttpClient()
    val dir = Files.createTempDirectory("giayto-kotlin-purposes")
    val keyStore = FileKeyStore(dir.resolve("keys"))
    val vaultKey = ByteArray(32).also { SecureRandom().nextBytes(it) }
    val wallet = Wallet.open(dir.resolve("wallet.vault").toString(), vaultKey, keyStore, http)
    val verifier = Verifier(http.getText("$server/trust-anchor.json"), "csgt:purpose-officer")
    lateinit var licence: DocumentInfo
    val traffic = ClaimSelection.Preset("traffic_stop")
    fun left() = wallet.document(licence.id).purposes.first { it.preset == "traffic_stop" }.unused

    check("receive brings the licence and a batch of each purpose, one key per credential") {
        licence = wallet.receive(offerUri, txCode)
        expect(licence.purposes.isNotEmpty() && licence.purposes.all { it.unused > 0u && it.used == 0u }) { "${licence.purposes}" }
        expect(licence.refillable) { "no refresh token kept" }
        val purposeKeys = keyStore.aliases().count { it.startsWith("giayto-purpose-") }
        expect(purposeKeys.toUInt() == licence.purposes.sumOf { it.unused }) { "$purposeKeys keys for ${licence.purposes}" }
        expect(keyStore.aliases().count { it.startsWith("giayto-holder-") } == 1) { "${keyStore.aliases()}" }
    }

    check("traffic_stop shown twice: two purpose credentials, nothing of the issuer's in common, both verify") {
        val before = left()
        val first = wallet.present(licence.id, traffic, PresentationMode.OneWay)
        val second = wallet.present(licence.id, traffic, PresentationMode.OneWay)
        expect(first.source == PresentationSource.PurposeCredential(before - 1u)) { "${first.source}" }
        expect(second.source == PresentationSource.PurposeCredential(before - 2u)) { "${second.source}" }
        expect(first.noticeVi == null && first.noticeEn == null) { "a notice for a fresh credential" }
        expect(first.qrText != second.qrText) { "the same QR twice" }
        expect(issuerJwt(first.presentation) != issuerJwt(second.presentation)) { "the same credential twice" }
        val sync = verifier.sync("$server/trust-list", http)
        expect(sync.failures.isEmpty()) { "${sync.failures}" }
        for (qr in listOf(first, second)) {
            val r = verifier.verifyQrText(qr.qrText)
            expect(r.valid && r.status == CredentialStatus.VALID) { "${r.status} ${r.errors}" }
            expect(r.documentTypeId == "driving_licence" && r.purpose == "traffic_stop") { "${r.documentTypeId} ${r.purpose}" }
            expect(r.purposeNameEn == "Traffic stop" && r.purposeNameVi != null) { "${r.purposeNameVi} ${r.purposeNameEn}" }
        }
        expect(left() == before - 2u) { "left ${left()}" }
    }

    lateinit var shown: List<String>
    check("when none is left, the fallback is said in Vietnamese and English") {
        shown = mutableListOf<String>().also { seen ->
            while (left() > 0u) seen += issuerJwt(wallet.present(licence.id, traffic, PresentationMode.OneWay).presentation)
        }
        val reused = wallet.present(licence.id, traffic, PresentationMode.OneWay)
        expect(reused.source is PresentationSource.ReusedPurposeCredential) { "${reused.source}" }
        expect(reused.noticeVi?.contains("Đã dùng hết") == true) { "${reused.noticeVi}" }
        expect(reused.noticeEn?.contains("shown before") == true) { "${reused.noticeEn}" }
        val full = wallet.present(licence.id, traffic, PresentationMode.OneWay, PurposeFallback.FULL_CREDENTIAL)
        expect(full.source == PresentationSource.FullCredential(true)) { "${full.source}" }
        expect(full.noticeEn?.contains("full credential") == true) { "${full.noticeEn}" }
        expect(wallet.document(licence.id).presetsToRefill.contains("traffic_stop")) { "not named for a refill" }
    }

    check("refill brings a new batch by the refresh token, reporting progress") {
        val steps = mutableListOf<ProgressReport>()
        val result = wallet.refill(licence.id, object : ProgressListener {
            override fun onProgress(progress: ProgressReport) { steps += progress }
        })
        expect(result.failures.isEmpty()) { "${result.failures}" }
        expect(result.added > 0u) { "$result" }
        expect(left() == result.added) { "left ${left()} after adding ${result.added}" }
        val stages = steps.map { it.stage }
        expect(stages.first() == ProgressStage.ISSUER_METADATA && stages.last() == ProgressStage.DONE) { "$stages" }
        expect(stages.contains(ProgressStage.PURPOSE_CREDENTIALS)) { "$stages" }
        val fresh = wallet.present(licence.id, traffic, PresentationMode.OneWay)
        expect(fresh.source == PresentationSource.PurposeCredential(result.added - 1u)) { "${fresh.source}" }
        expect(issuerJwt(fresh.presentation) !in shown) { "a used credential came back" }
        expect(verifier.verifyQrText(fresh.qrText).valid) { "the refilled credential does not verify" }
    }

    check("delete removes the document and every key it had") {
        wallet.delete(licence.id)
        expect(keyStore.aliases().isEmpty()) { "keys left: ${keyStore.aliases().size}" }
    }

    println("kotlin purposes: $passed passed, $failed failed")
    exitProcess(if (failed == 0) 0 else 1)
}
