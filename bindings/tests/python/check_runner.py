"""What every Python bindings test shares: runs named async checks, prints each outcome and
the counts, and gives the number of failures (the test's exit status)."""

import traceback


async def run_checks(label, checks):
    """Runs each `(name, async body)` of `checks`; prints `label: N passed, M failed`."""
    passed = failed = 0
    for name, body in checks:
        try:
            await body()
            passed += 1
            print(f"ok   {name}")
        except Exception:  # noqa: BLE001 - every failure is reported, then counted
            failed += 1
            print(f"FAIL {name}")
            traceback.print_exc()
    print(f"{label}: {passed} passed, {failed} failed")
    return failed
