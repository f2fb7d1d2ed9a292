// The one declaration of kotlinx-coroutines 1.5+ that UniFFI's generated Kotlin uses and
// Debian's kotlinx-coroutines 1.0.1 (the newest this test machine can install) lacks: the
// opt-in marker on GlobalScope. Compiled only into the JVM test by scripts/test-bindings.sh;
// an Android app depends on a current kotlinx-coroutines-android, which has it.
package kotlinx.coroutines

@RequiresOptIn(level = RequiresOptIn.Level.WARNING)
@Retention(AnnotationRetention.BINARY)
annotation class DelicateCoroutinesApi
