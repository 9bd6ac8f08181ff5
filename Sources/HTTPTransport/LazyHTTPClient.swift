import AsyncHTTPClient
import Synchronization

/// The shared `HTTPClient`, made on the first request rather than with the transport.
///
/// Why: making one loads the system's TLS trust store (every certificate under
/// `/etc/ssl/certs`), which was 3% of a no-change `swiftdock build` that never contacts a
/// registry (issue 13). A command that sends nothing now never pays for it; one that does
/// gets the same client, made once, as before.
final class LazyHTTPClient: Sendable {
    private let make: @Sendable () -> HTTPClient
    private let made = Mutex<HTTPClient?>(nil)
    /// Set by `shutdown`, under `made`'s lock.
    private let isShutDown = Mutex(false)

    init(_ make: @escaping @Sendable () -> HTTPClient) {
        self.make = make
    }

    /// The client, made now if this is the first use.
    var client: HTTPClient {
        made.withLock { made in
            if let made { return made }
            let client = make()
            made = client
            return client
        }
    }

    /// Whether a client was made (tests; `shutdown` has nothing to close otherwise).
    var isMade: Bool { made.withLock { $0 != nil } }

    /// Makes the client now if none was made and the transport is not shut down yet (see
    /// `HTTPTransport.prepareInBackground`): a preparation that comes after `shutdown` makes
    /// nothing, so no client outlives it unclosed.
    func prepare() {
        made.withLock { made in
            guard made == nil, !isShutDown.withLock({ $0 }) else { return }
            made = make()
        }
    }

    /// Shuts the client down if one was made.
    func shutdown() async {
        let client = made.withLock { made in
            isShutDown.withLock { $0 = true }
            return made
        }
        try? await client?.shutdown()
    }
}
