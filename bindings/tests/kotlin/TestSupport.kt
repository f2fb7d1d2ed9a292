// What every Kotlin bindings test shares: a named check that counts passes and failures
// (each test's main prints the counts and exits non-zero on a failure), an assertion, and
// the environment variables scripts/test-bindings.sh sets. Compiled into each test's jar.

internal var passed = 0
internal var failed = 0

internal suspend fun check(name: String, body: suspend () -> Unit) {
    try {
        body()
        passed++
        println("ok   $name")
    } catch (e: Throwable) {
        failed++
        println("FAIL $name: $e")
    }
}

internal fun expect(condition: Boolean, message: () -> String) {
    if (!condition) throw AssertionError(message())
}

internal fun env(name: String): String =
    System.getenv(name) ?: throw IllegalStateException("$name is not set (run scripts/test-bindings.sh)")
