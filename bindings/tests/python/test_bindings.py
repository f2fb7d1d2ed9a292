"""Runs the generated Python bindings against the real libgiayto_bindings.

Built and run by scripts/test-bindings.sh; prints "python: N passed, M failed".
"""

import sys
import traceback

import giayto_bindings as g

RESULTS = {"passed": 0, "failed": 0}


def check(name):
    def wrap(body):
        try:
            body()
            RESULTS["passed"] += 1
            print(f"ok   {name}")
        except Exception:  # noqa: BLE001 - every failure is reported, then counted
            RESULTS["failed"] += 1
            print(f"FAIL {name}")
            traceback.print_exc()
        return body

    return wrap


@check("catalogue lists every document type with vi/en names and presets")
def _catalogue():
    types = g.document_types()
    assert len(types) >= 6, len(types)
    licence = next(t for t in types if t.id == "driving_licence")
    assert licence.name_vi == "Giấy phép lái xe", licence.name_vi
    assert licence.presets[0].name == "full"


@check("a QR rendered as PNG reads back to the same text")
def _qr_round_trip():
    text = "GTC1:PYTHON TEST"
    png = g.render_qr_png(text)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert g.decode_qr_image(png) == text


@check("garbage image is a typed InvalidInput error")
def _garbage():
    try:
        g.decode_qr_image(b"not an image")
    except g.GiaytoError.InvalidInput as e:
        assert e.reason
    else:
        raise AssertionError("no exception")


print(f"python: {RESULTS['passed']} passed, {RESULTS['failed']} failed")
sys.exit(0 if RESULTS["failed"] == 0 else 1)
