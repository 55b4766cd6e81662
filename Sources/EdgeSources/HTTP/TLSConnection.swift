import COpenSSL
import Foundation

/// TLS over a non-blocking socket, with the system's OpenSSL: peer certificate verified against
/// the default trust store (`SSL_CERT_FILE`/`SSL_CERT_DIR` honoured), host name checked, SNI
/// sent. Every call returns at once; `.wantRead`/`.wantWrite` say what to wait for.
final class TLSConnection {
    enum Step: Equatable { case done(Int), wantRead, wantWrite, closed, failed(String) }

    // Thread-safe by OpenSSL's contract once set up; created once.
    nonisolated(unsafe) private static let context: OpaquePointer? = {
        guard let ctx = SSL_CTX_new(TLS_client_method()) else { return nil }
        SSL_CTX_set_default_verify_paths(ctx)
        // TLS 1.2 at least.
        SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil)
        return ctx
    }()

    private let ssl: OpaquePointer

    init(fd: Int32, host: String) throws {
        guard let ctx = Self.context, let ssl = SSL_new(ctx) else {
            throw HTTPClientError.tls("cannot set up TLS (\(Self.lastError()))")
        }
        self.ssl = ssl
        SSL_set_fd(ssl, fd)
        _ = edgetop_ssl_set_sni(ssl, host)
        SSL_set1_host(ssl, host)
        edgetop_ssl_set_verify_peer(ssl)
    }

    deinit { SSL_free(ssl) }

    func handshake() -> Step { map(SSL_connect(ssl), ok: 0) }

    func write(_ bytes: UnsafeRawBufferPointer) -> Step {
        guard bytes.count > 0 else { return .done(0) }
        let n = SSL_write(ssl, bytes.baseAddress, Int32(min(bytes.count, Int(Int32.max))))
        return map(n, ok: Int(n))
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> Step {
        let n = SSL_read(ssl, buffer.baseAddress, Int32(buffer.count))
        return map(n, ok: Int(n))
    }

    /// Bytes OpenSSL has decrypted but not handed over (no socket event will announce them).
    var pending: Int { Int(SSL_pending(ssl)) }

    private func map(_ rc: Int32, ok: Int) -> Step {
        if rc > 0 { return .done(ok) }
        let err = SSL_get_error(ssl, rc)
        switch err {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL where rc == 0: return .closed
        default:
            let verify = SSL_get_verify_result(ssl)
            if verify != X509_V_OK, let text = X509_verify_cert_error_string(verify) {
                return .failed("certificate not trusted: \(String(cString: text))")
            }
            return .failed(Self.lastError())
        }
    }

    static func lastError() -> String {
        let code = ERR_get_error()
        guard code != 0 else { return "TLS error" }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        ERR_clear_error()
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
