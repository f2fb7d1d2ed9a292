// What an iOS app provides to giayto: URLSession for HTTP and the Secure Enclave for holder
// keys. Not compiled on the Linux machines this repository is tested on (no Swift there).
import CryptoKit
import Foundation
import Giayto
import Security

/// HTTP through URLSession's async `data(for:)`: no thread waits for the answer, and a
/// cancelled giayto call cancels the Swift task running `send`, which cancels the request.
final class URLSessionHttpClient: HttpClient {
    func send(request: HttpRequest) async throws -> HttpResponse {
        guard let url = URL(string: request.url) else { throw GiaytoError.InvalidInput(reason: "bad URL") }
        var req = URLRequest(url: url, timeoutInterval: 30)
        req.httpMethod = request.method
        for h in request.headers { req.addValue(h.value, forHTTPHeaderField: h.name) }
        if !request.body.isEmpty { req.httpBody = request.body }
        let data: Data, response: URLResponse
        do { (data, response) = try await URLSession.shared.data(for: req) }
        catch is CancellationError { throw CancellationError() }
        catch { throw GiaytoError.Network(reason: "\(request.method) \(request.url): \(error)") }
        guard let http = response as? HTTPURLResponse else {
            throw GiaytoError.Network(reason: "\(request.url): not an HTTP response")
        }
        let headers = http.allHeaderFields.map { HttpHeader(name: "\($0.key)", value: "\($0.value)") }
        return HttpResponse(status: UInt16(http.statusCode), headers: headers, body: data)
    }
}

/// A P-256 key in the Secure Enclave: the private key never leaves the chip; CryptoKit's
/// `rawRepresentation` is already JWS's 64-byte r||s. `sign` is async: a key created with
/// `.userPresence` in its access control asks for Face ID / Touch ID first (through the
/// `LAContext`), and the call waits for the user without blocking a thread.
final class SecureEnclaveSigningKey: SigningKey {
    let key: SecureEnclave.P256.Signing.PrivateKey
    init(_ key: SecureEnclave.P256.Signing.PrivateKey) { self.key = key }

    func publicJwk() throws -> String {
        let raw = key.publicKey.rawRepresentation  // x || y, 32 bytes each
        func b64(_ d: Data) -> String {
            d.base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        return "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"\(b64(raw.prefix(32)))\",\"y\":\"\(b64(raw.suffix(32)))\"}"
    }

    func sign(message: Data) async throws -> Data {
        // CryptoKit's `signature(for:)` is synchronous and, for a `.userPresence` key, waits
        // for Face ID / Touch ID: run it in a detached task so the awaiting caller (the main
        // actor) stays free. An app that wants the prompt fully async evaluates an
        // `LAContext` first (`try await context.evaluatePolicy(...)`) and creates the key
        // handle with that `authenticationContext`.
        let key = self.key
        return try await Task.detached(priority: .userInitiated) {
            do { return try key.signature(for: message).rawRepresentation }
            catch { throw GiaytoError.KeyStore(reason: "Secure Enclave signing failed: \(error)") }
        }.value
    }
}

/// Holder keys by alias: Secure Enclave keys whose opaque `dataRepresentation` (usable only
/// on this device's enclave) is kept in the Keychain.
final class SecureEnclaveKeyStore: KeyStore {
    private func query(_ alias: String) -> [String: Any] {
        [kSecClass as String: kSecClassGenericPassword,
         kSecAttrService as String: "vn.giayto.holder-keys",
         kSecAttrAccount as String: alias]
    }

    func getOrCreateKey(alias: String) throws -> SigningKey {
        if let key = try? getKey(alias: alias) { return key }
        let access = SecAccessControlCreateWithFlags(nil, kSecAttrAccessibleWhenUnlockedThisDeviceOnly,
                                                     [.privateKeyUsage], nil)!
        let key = try SecureEnclave.P256.Signing.PrivateKey(accessControl: access)
        var item = query(alias)
        item[kSecValueData as String] = key.dataRepresentation
        item[kSecAttrAccessible as String] = kSecAttrAccessibleWhenUnlockedThisDeviceOnly
        let status = SecItemAdd(item as CFDictionary, nil)
        guard status == errSecSuccess else { throw GiaytoError.KeyStore(reason: "Keychain add failed: \(status)") }
        return SecureEnclaveSigningKey(key)
    }

    func getKey(alias: String) throws -> SigningKey {
        var q = query(alias)
        q[kSecReturnData as String] = true
        var out: CFTypeRef?
        guard SecItemCopyMatching(q as CFDictionary, &out) == errSecSuccess, let data = out as? Data else {
            throw GiaytoError.NotFound(reason: "no key under alias \(alias)")
        }
        do { return SecureEnclaveSigningKey(try SecureEnclave.P256.Signing.PrivateKey(dataRepresentation: data)) }
        catch { throw GiaytoError.KeyStore(reason: "Secure Enclave key unusable: \(error)") }
    }

    func deleteKey(alias: String) throws {
        SecItemDelete(query(alias) as CFDictionary)
    }
}
