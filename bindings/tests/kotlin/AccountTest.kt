// The citizen account (issue 14) through the generated Kotlin bindings on the JVM, against
// a running giayto-server: the police publish the citizen's ID card and activate the account
// (issuer API, with the police key), `Wallet.activate` binds it to a new key of the Kotlin
// key store and receives the ID card, a sync with nothing new is unchanged, the police
// publish a driving licence and the next `Wallet.sync` receives it, a revocation is marked.
// Built and run by its own block in scripts/test-bindings.sh (GIAYTO_SERVER,
// GIAYTO_POLICE_KEY); prints "kotlin account: N passed, M failed".

import vn.giayto.*
import vn.giayto.demo.FileKeyStore
import vn.giayto.demo.JdkHttpClient
import java.net.URI
import java.nio.file.Files
import java.security.SecureRandom
import kotlinx.coroutines.runBlocking
import kotlin.system.exitProcess

/** The issuer API, as the police's own systems would call it. */
private class Police(private val server: String, private val key: String) {
    private val client = java.net.http.HttpClient.newHttpClient()

    fun post(path: String, json: String, expected: Int): String {
        val request = java.net.http.HttpRequest.newBuilder(URI.create("$server$path"))
            .header("Authorization", "Bearer $key")
            .header("Content-Type", "application/json")
            .POST(java.net.http.HttpRequest.BodyPublishers.ofString(json, Charsets.UTF_8))
            .build()
        val response = client.send(request, java.net.http.HttpResponse.BodyHandlers.ofString(Charsets.UTF_8))
        expect(response.statusCode() == expected) { "POST $path: ${response.statusCode()} ${response.body()}" }
        return response.body()
    }
}

/** A string member of a flat JSON answer (the values here hold no quotes). */
private fun member(json: String, name: String): String =
    Regex("\"$name\"\\s*:\\s*\"([^\"]*)\"").find(json)?.groupValues?.get(1)
        ?: throw AssertionError("no $name in $json")

fun main(): Unit = runBlocking {
    val server = env("GIAYTO_SERVER")
    val police = Police(server, env("GIAYTO_POLICE_KEY"))
    // A citizen of its own, so the other tests' documents are not in this inbox.
    val citizen = "0010990" + (10000..99999).random()
    val suffix = citizen.takeLast(5)
    val dir = Files.createTempDirectory("giayto-kotlin-account")
    val keyStore = FileKeyStore(dir.resolve("keys"))
    val vaultKey = ByteArray(32).also { SecureRandom().nextBytes(it) }
    val wallet = Wallet.open(dir.resolve("wallet.vault").toString(), vaultKey, keyStore, JdkHttpClient())

    police.post(
        "/api/v1/documents",
        """{"document_id":"CC-KT-$suffix","citizen_id":"$citizen","vct":"https://giayto.gov.vn/vct/can_cuoc","claims":{
            "personal_id":"$citizen","family_name":"Nguyễn","given_name":"Văn An","full_name":"Nguyễn Văn An",
            "birth_date":"1990-05-01","sex":"male","nationality":"VN","place_of_origin":"Hà Nội",
            "place_of_residence":"12 Tràng Tiền, Hoàn Kiếm, Hà Nội","issue_date":"2021-01-01",
            "expiry_date":"2030-05-01","issuing_authority":"Bộ Công an"}}""",
        201,
    )
    val activation = police.post("/api/v1/accounts", """{"citizen_id":"$citizen"}""", 201)
    val offerUri = member(activation, "offer_uri_by_reference")
    val txCode = member(activation, "tx_code")

    check("activate binds the account to a new key and receives the ID card") {
        val summary = wallet.activate(offerUri, txCode)
        expect(summary.received.size == 1) { "received ${summary.received}" }
        expect(summary.received[0].documentTypeId == "can_cuoc") { "${summary.received[0]}" }
        expect(keyStore.aliases().any { it.startsWith("giayto-account-") }) { "keys ${keyStore.aliases()}" }
    }

    check("a sync with nothing new is unchanged") {
        val summary = wallet.sync()
        expect(summary.unchanged && summary.received.isEmpty()) { "$summary" }
    }

    check("a licence the police publish arrives on the next sync, with its publisher in the history") {
        police.post(
            "/api/v1/documents",
            """{"document_id":"GPLX-KT-$suffix","citizen_id":"$citizen","vct":"https://giayto.gov.vn/vct/driving_licence","claims":{
                "licence_number":"010123456789","family_name":"Nguyễn","given_name":"Văn An","full_name":"Nguyễn Văn An",
                "birth_date":"1990-05-01","nationality":"VN","place_of_residence":"12 Tràng Tiền, Hoàn Kiếm, Hà Nội",
                "driving_privileges":[{"class":"B","issue_date":"2015-09-10","expiry_date":"2035-09-10"}],
                "issue_date":"2025-01-15","issuing_authority":"Phòng Cảnh sát giao thông"}}""",
            201,
        )
        val summary = wallet.sync()
        expect(!summary.unchanged && summary.received.size == 1) { "$summary" }
        expect(summary.received[0].documentTypeId == "driving_licence") { "${summary.received[0]}" }
        expect(wallet.documents().size == 2) { "documents ${wallet.documents().size}" }
        val history = wallet.accountHistory()
        expect(history.size == 2 && history.all { it.publisherId == "police" }) { "$history" }
    }

    check("a revocation is marked on the next sync") {
        police.post("/api/v1/documents/GPLX-KT-$suffix/revoke", "{}", 200)
        val summary = wallet.sync()
        expect(summary.stateChanges.size == 1 && summary.stateChanges[0].state == "revoked") { "$summary" }
    }

    check("the history has each receipt and the revocation, dates in both languages") {
        val events = wallet.accountEvents()
        expect(events.any { it.kind == HistoryEventKind.STATE_CHANGED && it.state == "revoked" && it.documentId == "GPLX-KT-$suffix" }) { "$events" }
        expect(events.count { it.kind == HistoryEventKind.RECEIVED } == 2) { "$events" }
        expect(events.all { it.atText.endsWith("(UTC)") }) { "$events" }
        expect(events.zipWithNext().all { (a, b) -> a.at >= b.at }) { "newest first: $events" }
    }

    println("kotlin account: $passed passed, $failed failed")
    exitProcess(if (failed == 0) 0 else 1)
}
