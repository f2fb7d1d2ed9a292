// Runs the generated Kotlin bindings against the real libgiayto_bindings on the JVM.
// Built and run by scripts/test-bindings.sh; prints "kotlin: N passed, M failed".

import vn.giayto.*
import kotlin.system.exitProcess

private var passed = 0
private var failed = 0

private fun check(name: String, body: () -> Unit) {
    try {
        body()
        passed++
        println("ok   $name")
    } catch (e: Throwable) {
        failed++
        println("FAIL $name: $e")
    }
}

private fun expect(condition: Boolean, message: () -> String) {
    if (!condition) throw AssertionError(message())
}

fun main() {
    check("catalogue lists every document type with vi/en names and presets") {
        val types = documentTypes()
        expect(types.size >= 6) { "only ${types.size} types" }
        val licence = types.first { it.id == "driving_licence" }
        expect(licence.nameVi == "Giấy phép lái xe") { "name_vi ${licence.nameVi}" }
        expect(licence.presets.first().name == "full") { "first preset ${licence.presets.first().name}" }
        expect(types.all { it.vct.endsWith(it.id) }) { "vct/id mismatch" }
    }

    check("a QR rendered as PNG reads back to the same text") {
        val text = "GTC1:KOTLIN TEST"
        val png = renderQrPng(text)
        expect(png.size > 8 && png[1] == 'P'.code.toByte()) { "not a PNG" }
        expect(decodeQrImage(png) == text) { "round trip" }
        expect(renderQrTerminal(text).lines().size > 10) { "terminal QR too small" }
    }

    check("garbage image is a typed InvalidInput exception") {
        try {
            decodeQrImage("not an image".toByteArray())
            throw AssertionError("no exception")
        } catch (e: GiaytoException.InvalidInput) {
            expect(e.reason.isNotEmpty()) { "empty reason" }
        }
    }

    println("kotlin: $passed passed, $failed failed")
    exitProcess(if (failed == 0) 0 else 1)
}
