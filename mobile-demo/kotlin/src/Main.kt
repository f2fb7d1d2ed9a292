// A console "phone" on the JVM, running the giayto app logic through the generated Kotlin
// bindings exactly as an Android app would: a wallet mode for the citizen and a verifier
// mode for the officer. The network and signing calls are suspend functions, called from
// coroutines (an app uses its viewModelScope; this console uses runBlocking). Built and run
// by mobile-demo/kotlin/run.sh.

package vn.giayto.demo

import vn.giayto.*
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.nio.file.attribute.PosixFilePermissions
import java.security.SecureRandom
import kotlinx.coroutines.runBlocking
import kotlin.system.exitProcess

private const val USAGE = """usage: run.sh [--release] [--home DIR] COMMAND
  wallet receive OFFER_URI TX_CODE      receive a document (scan the offer QR, type the code)
  wallet list                           list the documents
  wallet bench [N]                      time opening and listing the vault N times
  wallet show ID                        show one document, every claim labelled
  wallet present ID [--preset NAME | --claims a,b] [--challenge GTC1:...] [--paper] [--png FILE]
                                        show a QR in the terminal and write it as PNG
  verifier sync SERVER_URL              online: pin the anchor, fetch the trust list and every
                                        issuer's status lists (only the changed ones again)
  verifier verify QR_PNG [--online]     verify a QR picture offline (--online: fetch missing status lists)
  verifier challenge                    show a challenge QR for two-way checks
  verifier bench QR_PNG [N]             time N offline verifications of one QR
  types                                 list the document types"""

/** Where the demo phone keeps its state (an app's private files). */
class Home(val dir: Path) {
    val keys = FileKeyStore(dir.resolve("keys"))
    val http = JdkHttpClient()
    private val verifierDir: Path = dir.resolve("verifier")

    init {
        Files.createDirectories(verifierDir)
    }

    /** The vault key. A phone keeps it wrapped by the Android Keystore / in the iOS Keychain. */
    private fun vaultKey(): ByteArray {
        val file = dir.resolve("vault.key")
        if (!Files.exists(file)) {
            val key = ByteArray(32).also { SecureRandom().nextBytes(it) }
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
            Files.write(file, key)
        }
        return Files.readAllBytes(file)
    }

    suspend fun wallet(): Wallet = Wallet.open(dir.resolve("wallet.vault").toString(), vaultKey(), keys, http)

    fun file(name: String): Path = verifierDir.resolve(name)

    /** The verifier with its pinned anchor, cached trust list, status lists and the proofs
     *  it accepted (so a one-way QR is refused the second time, even in another run). */
    fun verifier(): Verifier {
        val anchor = file("anchor.json")
        if (!Files.exists(anchor)) fail("no trust anchor pinned: run `verifier sync SERVER_URL` once")
        val verifier = Verifier(Files.readString(anchor), "giayto-demo-officer")
        val trustList = file("trust-list.jwt")
        if (Files.exists(trustList)) verifier.loadTrustList(Files.readString(trustList))
        val statuses = file("status-cache.json")
        if (Files.exists(statuses)) verifier.importStatusCache(Files.readString(statuses))
        val seen = file("replay-cache.json")
        if (Files.exists(seen)) verifier.importReplayCache(Files.readString(seen))
        return verifier
    }

    fun save(verifier: Verifier) {
        verifier.trustListToken()?.let { Files.writeString(file("trust-list.jwt"), it) }
        Files.writeString(file("status-cache.json"), verifier.exportStatusCache())
        Files.writeString(file("replay-cache.json"), verifier.exportReplayCache())
        Files.writeString(file("server.txt"), serverUrl() ?: "")
    }

    fun serverUrl(): String? = file("server.txt").takeIf { Files.exists(it) }?.let { Files.readString(it).trim() }?.ifEmpty { null }
}

private fun fail(message: String): Nothing {
    System.err.println(message)
    exitProcess(2)
}

private fun option(args: List<String>, name: String): String? {
    val i = args.indexOf(name)
    return if (i >= 0 && i + 1 < args.size) args[i + 1] else null
}

private fun date(unix: Long?): String = unix?.let { java.time.Instant.ofEpochSecond(it).toString().take(10) } ?: "-"

/** A claim for people: its label in Vietnamese and English, and booleans in both languages. */
private fun claimLine(labelVi: String?, labelEn: String?, path: String, value: String): String {
    val label = when {
        labelVi == null -> path
        labelEn == null || labelEn == labelVi -> labelVi
        else -> "$labelVi / $labelEn"
    }
    val shown = when (value) {
        "true" -> "có / yes"
        "false" -> "không / no"
        else -> value
    }
    return "  ${label.padEnd(48)} $shown"
}

private fun printDocument(d: DocumentInfo) {
    println("${d.nameVi ?: d.vct} / ${d.nameEn ?: ""}")
    println("  id ${d.id}   issuer ${d.issuer}   expires ${date(d.expiresAt)}")
    for (c in d.claims) println(claimLine(c.labelVi, c.labelEn, c.path, c.value))
}

private fun printResult(r: VerificationResult) {
    println(if (r.valid) "HỢP LỆ / VALID" else "KHÔNG HỢP LỆ / NOT VALID")
    println("  document  ${r.documentNameVi ?: r.vct ?: "-"} / ${r.documentNameEn ?: ""}")
    println("  issuer    ${r.issuerNameVi ?: r.issuerId ?: "-"} / ${r.issuerNameEn ?: ""}")
    println("  status    ${r.status}")
    when (val b = r.holderBinding) {
        is HolderBindingState.Verified -> println("  holder    bound to the holder's phone (proof for ${b.audience})")
        is HolderBindingState.NotBound -> println("  holder    NOT bound to a device (paper form): check the holder's face")
        is HolderBindingState.Failed -> println("  holder    device binding FAILED")
        // Refused before binding was looked at: say nothing about it.
        is HolderBindingState.NotChecked -> {}
    }
    for (c in r.claims) println(claimLine(c.labelVi, c.labelEn, c.path, c.value))
    for (e in r.errors) println("  ✗ ${e.code}: ${e.message}")
    for (w in r.warnings) println("  ! ${w.code}: ${w.message}")
}

/** Reports the steps of a long call on one line. */
private object ConsoleProgress : ProgressListener {
    override fun onProgress(progress: ProgressReport) {
        print("\r  ${progress.completed}/${progress.total} ${progress.stage.name.lowercase()}".padEnd(48))
        if (progress.stage == ProgressStage.DONE) println()
    }
}

private suspend fun walletCommand(home: Home, args: List<String>) {
    val wallet = home.wallet()
    when (args.firstOrNull()) {
        "receive" -> {
            val offer = args.getOrNull(1) ?: fail(USAGE)
            val summary = wallet.inspectOffer(offer)
            println("offer from ${summary.issuer}: ${summary.credentialConfigurationIds.joinToString()}")
            val code = if (summary.needsTxCode) args.getOrNull(2) ?: fail("this offer needs the transaction code") else null
            val doc = wallet.receive(offer, code, ConsoleProgress)
            println("received:")
            printDocument(doc)
        }
        "bench" -> {
            val n = args.getOrNull(1)?.toInt() ?: 50
            repeat(5) { home.wallet().documents() }
            val start = System.nanoTime()
            var listed = 0
            repeat(n) { listed = home.wallet().documents().size }
            val perOp = (System.nanoTime() - start) / n / 1e6
            println("kotlin open+list vault of $listed documents: %.2f ms per open".format(perOp))
        }
        "list" -> wallet.documents().forEach { println("${it.id}  ${it.nameVi ?: it.vct}  (${it.nameEn ?: ""})  expires ${date(it.expiresAt)}") }
        "show" -> printDocument(wallet.document(args.getOrNull(1) ?: fail(USAGE)))
        "present" -> {
            val id = args.getOrNull(1) ?: fail(USAGE)
            val selection = option(args, "--claims")?.let { ClaimSelection.Claims(it.split(',')) }
                ?: ClaimSelection.Preset(option(args, "--preset") ?: "full")
            val mode = when {
                args.contains("--paper") -> PresentationMode.Paper
                option(args, "--challenge") != null -> PresentationMode.AnswerChallenge(option(args, "--challenge")!!)
                else -> PresentationMode.OneWay
            }
            val qr = wallet.present(id, selection, mode)
            println(renderQrTerminal(qr.qrText))
            val png = Paths.get(option(args, "--png") ?: "presentation.png")
            Files.write(png, qr.png)
            println("${qr.qrText.length} characters; PNG written to $png")
        }
        else -> fail(USAGE)
    }
}

private suspend fun verifierCommand(home: Home, args: List<String>) {
    when (args.firstOrNull()) {
        "sync" -> {
            val server = (args.getOrNull(1) ?: fail(USAGE)).trimEnd('/')
            // A real verifier app ships the anchor; the demo pins the one it first sees.
            val anchor = home.file("anchor.json")
            if (!Files.exists(anchor)) Files.writeString(anchor, home.http.getText("$server/trust-anchor.json"))
            Files.writeString(home.file("server.txt"), server)
            val verifier = home.verifier()
            val sync = verifier.sync("$server/trust-list", home.http, ConsoleProgress)
            home.save(verifier)
            println("trust list of ${sync.issuers} issuers loaded; ${sync.lists} status list(s): " +
                "${sync.downloaded} downloaded, ${sync.notModified} unchanged; ready to verify offline")
            for (f in sync.failures) println("  failed ${f.uri}: ${f.reason}")
        }
        "verify" -> {
            val png = Paths.get(args.getOrNull(1) ?: fail(USAGE))
            val verifier = home.verifier()
            var result = verifier.verifyImage(Files.readAllBytes(png))
            if (args.contains("--online") && verifier.missingStatusLists().isNotEmpty()) {
                println("fetching ${verifier.missingStatusLists().size} status list(s)…")
                verifier.refreshStatusLists(home.http)
                result = verifier.verifyImage(Files.readAllBytes(png))
            }
            home.save(verifier)
            printResult(result)
            if (!result.valid) exitProcess(1)
        }
        "bench" -> {
            // Same QR every time: from the second run on the verdict is "replayed", which is
            // reached after every other check, so each iteration does the full verification.
            val text = decodeQrImage(Files.readAllBytes(Paths.get(args.getOrNull(1) ?: fail(USAGE))))
            // As bindings/examples/verify_bench.rs: 3 s of warm-up (the JIT compiles the
            // generated lifting code), then the median of 7 rounds of N.
            val n = args.getOrNull(2)?.toInt() ?: 200
            val verifier = home.verifier()
            val warm = System.nanoTime() + 3_000_000_000L
            while (System.nanoTime() < warm) verifier.verifyQrText(text)
            val rounds = (1..7).map {
                val start = System.nanoTime()
                repeat(n) { verifier.verifyQrText(text) }
                (System.nanoTime() - start) / n / 1000.0
            }.sorted()
            println("kotlin verify_qr_text: median of 7 rounds of $n, %.1f µs per verification (rounds %s)"
                .format(rounds[3], rounds.joinToString(" ") { "%.0f".format(it) }))
        }
        "challenge" -> {
            val text = home.verifier().newChallenge(120u)
            println(renderQrTerminal(text))
            println(text)
            println("(a demo process forgets its challenge when it exits; an app keeps the Verifier alive)")
        }
        else -> fail(USAGE)
    }
}

fun main(argv: Array<String>): Unit = runBlocking {
    var args = argv.toList()
    val homeAt = args.indexOf("--home")
    val home = if (homeAt >= 0 && homeAt + 1 < args.size) Paths.get(args[homeAt + 1])
    else Paths.get(System.getProperty("user.home"), ".giayto-demo")
    if (homeAt >= 0) args = args.take(homeAt) + args.drop(homeAt + 2)
    val phone = Home(home)
    try {
        when (args.firstOrNull()) {
            "wallet" -> walletCommand(phone, args.drop(1))
            "verifier" -> verifierCommand(phone, args.drop(1))
            "types" -> documentTypes().forEach { t ->
                println("${t.id.padEnd(24)} ${t.nameVi} / ${t.nameEn}   presets: ${t.presets.joinToString { it.name }}")
            }
            else -> fail(USAGE)
        }
    } catch (e: GiaytoException) {
        System.err.println("error: ${e::class.simpleName}: ${e.message}")
        exitProcess(1)
    }
}
