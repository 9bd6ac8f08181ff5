import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

/// Which failures below HTTP are worth another try, decided by the error's type and code,
/// never by its text: a refused or reset connection, a timeout, a body cut short ("stream
/// ended at an unexpected time"), a TLS stream closed without `close_notify`. Bad URLs,
/// certificate failures and cancellation are not.
public enum TransientErrors {
    public static func isTransient(_ error: Error) -> Bool {
        switch error {
        case let error as TransportError:
            if case .unreachable(_, let cause) = error { return isTransient(cause) }
            return false
        case let error as HTTPClientError:
            return transientClientErrors.contains(error)
        case let error as HTTPParserError:
            // The connection closed inside a message: a truncated head or body.
            return error == .invalidEOFState
        case let error as IOError:
            return transientErrnos.contains(error.errnoCode)
        case is NIOConnectionError:
            // Every address refused or timed out; DNS failures included (a resolver hiccup).
            return true
        case let error as ChannelError:
            switch error {
            case .connectTimeout, .ioOnClosedChannel, .eof, .outputClosed, .inputClosed, .alreadyClosed: return true
            default: return false
            }
        case let error as NIOSSLError:
            if case .uncleanShutdown = error { return true }
            return false
        default:
            return false
        }
    }

    /// AHC's failures of the connection or of its timing, not of the request itself.
    private static let transientClientErrors: [HTTPClientError] = [
        .remoteConnectionClosed, .readTimeout, .writeTimeout, .connectTimeout, .tlsHandshakeTimeout,
        .getConnectionFromPoolTimeout, .uncleanShutdown, .deadlineExceeded,
    ]

    private static let transientErrnos: Set<CInt> = [
        ECONNREFUSED, ECONNRESET, ECONNABORTED, EPIPE, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH, ENETDOWN, EAGAIN,
    ]

    /// A short human reason for a failure below HTTP (`connection refused`, `timed out`).
    public static func describe(_ error: Error) -> String {
        switch error {
        case let error as TransportError:
            if case .unreachable(_, let cause) = error { return describe(cause) }
            return error.description
        case let error as NIOConnectionError:
            if let dns = error.dnsAError ?? error.dnsAAAAError { return "cannot resolve \(error.host): \(dns)" }
            if let first = error.connectionErrors.first?.error { return describe(first) }
            return "cannot connect to \(error.host):\(error.port)"
        case let error as IOError:
            switch error.errnoCode {
            case ECONNREFUSED: return "connection refused"
            case ECONNRESET: return "connection reset"
            case ETIMEDOUT: return "timed out"
            default: return String(cString: strerror(error.errnoCode))
            }
        case let error as HTTPClientError:
            switch error {
            case .connectTimeout, .readTimeout, .writeTimeout, .deadlineExceeded, .tlsHandshakeTimeout,
                 .getConnectionFromPoolTimeout:
                return "timed out"
            case .remoteConnectionClosed: return "the server closed the connection"
            default: return "\(error)"
            }
        case let error as ChannelError:
            if case .connectTimeout = error { return "timed out" }
            return "\(error)"
        case let error as HTTPParserError where error == .invalidEOFState:
            return "the connection closed before the response was complete"
        case let error as NIOSSLError:
            return "TLS: \(error)"
        case let error as NIOSSLExtraError:
            return "TLS: \(error)"
        default:
            return String(describing: error).replacingOccurrences(of: "\n", with: " ")
        }
    }
}
