// The demo phone flow in Swift: receive a document, present it as a QR, verify it, with
// giayto's async calls awaited from top-level code (an app awaits them in a `Task` or a
// SwiftUI `.task`; cancelling that task cancels the call and its network request).
// Usage: GiaytoDemo SERVER_URL OFFER_URI TX_CODE
import Foundation
import Giayto

let args = CommandLine.arguments
guard args.count == 4 else { print("usage: GiaytoDemo SERVER_URL OFFER_URI TX_CODE"); exit(2) }
let (server, offer, txCode) = (args[1], args[2], args[3])
let http = URLSessionHttpClient()
let dir = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
// A real app keeps this key in the Keychain (kSecAttrAccessibleWhenUnlockedThisDeviceOnly).
var vaultKey = Data(count: 32)
_ = vaultKey.withUnsafeMutableBytes { SecRandomCopyBytes(kSecRandomDefault, 32, $0.baseAddress!) }

/// Prints each step of a long call.
final class PrintedProgress: ProgressListener {
    func onProgress(progress: ProgressReport) throws {
        print("  \(progress.completed)/\(progress.total) \(progress.stage)")
    }
}

do {
    let wallet = try await Wallet.open(path: dir.appendingPathComponent("wallet.vault").path,
                                 vaultKey: vaultKey, keyStore: SecureEnclaveKeyStore(), http: http)
    let doc = try await wallet.receive(offerUri: offer, txCode: txCode, progress: PrintedProgress())
    print("received \(doc.nameVi ?? doc.vct)")
    for claim in doc.claims { print("  \(claim.labelVi ?? claim.path): \(claim.value)") }
    let qr = try await wallet.present(id: doc.id, selection: .preset(name: "traffic_stop"), mode: .oneWay)
    print(try renderQrTerminal(qrText: qr.qrText))

    let (anchorData, _) = try await URLSession.shared.data(from: URL(string: "\(server)/trust-anchor.json")!)
    let anchor = String(decoding: anchorData, as: UTF8.self)
    let verifier = try Verifier(trustAnchor: anchor, verifierId: "csgt:swift-demo")
    // Online once: the trust list and every trusted issuer's status lists.
    let sync = try await verifier.sync(trustListUrl: "\(server)/trust-list", http: http, progress: PrintedProgress())
    print("synced \(sync.lists) status list(s), \(sync.failures.count) failed")
    let next = try await wallet.present(id: doc.id, selection: .preset(name: "traffic_stop"), mode: .oneWay)
    let result = try verifier.verifyImage(imageBytes: next.png)
    print(result.valid ? "VALID" : "NOT VALID: \(result.errors.map(\.message))")
} catch let error as GiaytoError {
    print("error: \(error)")
    exit(1)
} catch {
    print("error: \(error)")
    exit(1)
}
