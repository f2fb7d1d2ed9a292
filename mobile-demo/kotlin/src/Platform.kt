// What a phone app provides to giayto through the bindings' foreign traits: its HTTP stack
// and its key store. On Android, HttpClient wraps OkHttp and KeyStore wraps AndroidKeyStore;
// here, on the JVM, java.net.http and P-256 keys from the JCA kept as PKCS#8 files.
// HttpClient.send and SigningKey.sign are suspend functions: no thread waits on the network
// or on the user, and a cancelled giayto call cancels them.

package vn.giayto.demo

import vn.giayto.GiaytoException
import vn.giayto.HttpClient
import vn.giayto.HttpHeader
import vn.giayto.HttpRequest
import vn.giayto.HttpResponse
import vn.giayto.KeyStore
import vn.giayto.SigningKey
import java.math.BigInteger
import java.net.URI
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.attribute.PosixFilePermissions
import java.security.KeyFactory
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.Signature
import java.security.interfaces.ECPublicKey
import java.security.spec.ECGenParameterSpec
import java.security.spec.PKCS8EncodedKeySpec
import java.security.spec.X509EncodedKeySpec
import java.time.Duration
import java.util.Base64
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CompletionException
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlin.coroutines.resume
import kotlin.coroutines.resumeWithException

/**
 * Waits for a `CompletableFuture` without blocking a thread; cancelling the coroutine
 * cancels the future (for java.net.http, the request). kotlinx-coroutines-jdk8's `await()`
 * does the same; it is not installable on the test machine (see bindings/README.md).
 */
suspend fun <T> CompletableFuture<T>.awaitResult(): T = suspendCancellableCoroutine { continuation ->
    whenComplete { value, error ->
        if (error == null) continuation.resume(value)
        else continuation.resumeWithException((error as? CompletionException)?.cause ?: error)
    }
    continuation.invokeOnCancellation { cancel(true) }
}

/** The phone's HTTP stack: java.net.http's async `sendAsync` (an Android app would use OkHttp's `enqueue` or Ktor the same way). */
class JdkHttpClient(private val requestTimeout: Duration = Duration.ofSeconds(30)) : HttpClient {
    private val client = java.net.http.HttpClient.newBuilder()
        .connectTimeout(Duration.ofSeconds(10)).build()

    override suspend fun send(request: HttpRequest): HttpResponse {
        val builder = java.net.http.HttpRequest.newBuilder(URI.create(request.url))
            .timeout(requestTimeout)
        for (h in request.headers) {
            // The JDK sets Content-Length itself and refuses it as a header.
            if (!h.name.equals("Content-Length", ignoreCase = true)) builder.header(h.name, h.value)
        }
        val body = if (request.body.isEmpty()) java.net.http.HttpRequest.BodyPublishers.noBody()
        else java.net.http.HttpRequest.BodyPublishers.ofByteArray(request.body)
        builder.method(request.method, body)
        val response = try {
            client.sendAsync(builder.build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray()).awaitResult()
        } catch (e: java.io.IOException) {
            throw GiaytoException.Network("${request.method} ${request.url}: $e")
        }
        val headers = response.headers().map().flatMap { (name, values) -> values.map { HttpHeader(name, it) } }
        return HttpResponse(response.statusCode().toUShort(), headers, response.body())
    }

    /** GETs `url` and returns the body as text (for the demo's own downloads). */
    suspend fun getText(url: String): String {
        val response = send(HttpRequest("GET", url, emptyList(), ByteArray(0)))
        if (response.status.toInt() !in 200..299) throw GiaytoException.Network("GET $url: HTTP ${response.status}")
        return String(response.body, Charsets.UTF_8)
    }
}

/**
 * A P-256 key held by the JCA. Signs as Android Keystore keys do (DER ECDSA), converted to
 * JWS's r||s. An Android key that needs the user's fingerprint would first await a
 * `BiometricPrompt` (with a `CryptoObject` of this `Signature`) inside `sign`: the suspend
 * function waits for the user without holding a thread.
 */
class JcaSigningKey(private val pair: KeyPair) : SigningKey {
    override fun publicJwk(): String {
        val point = (pair.public as ECPublicKey).w
        val b64 = Base64.getUrlEncoder().withoutPadding()
        return """{"kty":"EC","crv":"P-256","x":"${b64.encodeToString(fixed32(point.affineX))}","y":"${b64.encodeToString(fixed32(point.affineY))}"}"""
    }

    override suspend fun sign(message: ByteArray): ByteArray {
        val signer = Signature.getInstance("SHA256withECDSA")
        signer.initSign(pair.private)
        signer.update(message)
        return derToRaw(signer.sign())
    }
}

/** 32 big-endian bytes of a P-256 coordinate or signature half. */
fun fixed32(n: BigInteger): ByteArray {
    val bytes = n.toByteArray()
    return when {
        bytes.size == 32 -> bytes
        bytes.size > 32 -> bytes.copyOfRange(bytes.size - 32, bytes.size)
        else -> ByteArray(32 - bytes.size) + bytes
    }
}

/**
 * The DER `SEQUENCE { INTEGER r, INTEGER s }` that the JCA, Android Keystore and
 * `SecKeyCreateSignature` produce, as the 64-byte `r || s` JWS needs.
 */
fun derToRaw(der: ByteArray): ByteArray {
    if (der.size < 8 || der[0].toInt() != 0x30) throw GiaytoException.KeyStore("not a DER ECDSA signature")
    var i = 2 + (if (der[1].toInt() and 0x80 != 0) (der[1].toInt() and 0x7f) else 0)
    fun integer(): BigInteger {
        if (i + 2 > der.size || der[i].toInt() != 0x02) throw GiaytoException.KeyStore("not a DER INTEGER")
        val len = der[i + 1].toInt()
        if (len <= 0 || i + 2 + len > der.size) throw GiaytoException.KeyStore("bad DER INTEGER length")
        val value = BigInteger(1, der.copyOfRange(i + 2, i + 2 + len))
        i += 2 + len
        return value
    }
    return fixed32(integer()) + fixed32(integer())
}

/**
 * Holder keys as files (mode 0600, public key then PKCS#8 private key) in `dir`: a software key store for the demo and
 * the tests. A phone keeps them in AndroidKeyStore / the Secure Enclave instead, where the
 * private key cannot be read out (see mobile-demo/README.md).
 */
class FileKeyStore(private val dir: Path) : KeyStore {
    init {
        Files.createDirectories(dir)
    }

    private fun file(alias: String): Path {
        if (!alias.matches(Regex("[A-Za-z0-9_-]{1,128}"))) throw GiaytoException.KeyStore("bad alias")
        return dir.resolve("$alias.p8")
    }

    /** The aliases of the stored keys. */
    fun aliases(): List<String> =
        Files.list(dir).use { s -> s.map { it.fileName.toString().removeSuffix(".p8") }.toList() }

    override fun getOrCreateKey(alias: String): SigningKey {
        if (Files.exists(file(alias))) return getKey(alias)
        val generator = KeyPairGenerator.getInstance("EC")
        generator.initialize(ECGenParameterSpec("secp256r1"))
        val pair = generator.generateKeyPair()
        val path = file(alias)
        Files.createFile(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
        // The public key (X.509 SubjectPublicKeyInfo) first, then the private key (PKCS#8).
        val public = pair.public.encoded
        Files.write(path, byteArrayOf((public.size shr 8).toByte(), public.size.toByte()) + public + pair.private.encoded)
        return JcaSigningKey(pair)
    }

    override fun getKey(alias: String): SigningKey {
        val path = file(alias)
        if (!Files.exists(path)) throw GiaytoException.NotFound("no key under alias $alias")
        val bytes = Files.readAllBytes(path)
        val publicLen = if (bytes.size > 2) ((bytes[0].toInt() and 0xff) shl 8) or (bytes[1].toInt() and 0xff) else -1
        if (publicLen <= 0 || 2 + publicLen >= bytes.size) throw GiaytoException.KeyStore("damaged key file for $alias")
        val factory = KeyFactory.getInstance("EC")
        val public = factory.generatePublic(X509EncodedKeySpec(bytes.copyOfRange(2, 2 + publicLen)))
        val private = factory.generatePrivate(PKCS8EncodedKeySpec(bytes.copyOfRange(2 + publicLen, bytes.size)))
        return JcaSigningKey(KeyPair(public, private))
    }

    override fun deleteKey(alias: String) {
        Files.deleteIfExists(file(alias))
    }
}
