import Foundation
import ImageModel
import Registry
#if canImport(Glibc)
import Glibc
#endif

/// Draws per-layer transfer progress on stderr the way docker does.
///
/// - `.live` (stderr is a terminal): one line per layer, redrawn in place —
///   `3f2a1b0c9d8e: Pushing [=====>      ]  12.3MB/45.6MB`, then `Pushed`.
/// - `.plain` (a pipe or file): a line each time a layer changes state, no byte counts.
/// - `.quiet`: nothing.
///
/// `@unchecked Sendable` is safe: transfer tasks call `handle` concurrently, and every read or
/// write of the mutable state (and every call of `write`) happens while `lock` is held.
final class ProgressRenderer: @unchecked Sendable {
    enum Mode { case live, plain, quiet }

    let mode: Mode
    /// Pull wording (`Already exists`) instead of push wording (`Layer already exists`).
    let pulling: Bool
    private let lock = NSLock()
    private var order: [Digest] = []
    private var text: [Digest: String] = [:]
    private var lastKind: [Digest: String] = [:]
    private var drawnLines = 0
    private var lastDraw = Date.distantPast
    private let write: (String) -> Void

    /// - Parameter quiet: `-q`; otherwise live when stderr is a terminal, else plain.
    init(quiet: Bool, pulling: Bool, write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        mode = quiet ? .quiet : (isatty(2) == 1 ? .live : .plain)
        self.pulling = pulling
        self.write = write
    }

    init(mode: Mode, pulling: Bool, write: @escaping (String) -> Void) {
        self.mode = mode
        self.pulling = pulling
        self.write = write
    }

    /// The observer to hand to `ImagePuller` / `ImagePusher`.
    var observer: TransferObserver { { [self] event in handle(event) } }

    func handle(_ event: TransferEvent) {
        guard mode != .quiet, event.isLayer, let line = Self.describe(event.state, pulling: pulling) else { return }
        lock.lock()
        defer { lock.unlock() }
        let digest = event.digest
        if text[digest] == nil { order.append(digest) }
        text[digest] = line.text
        switch mode {
        case .plain:
            if lastKind[digest] != line.kind {
                lastKind[digest] = line.kind
                write("\(digest.shortID): \(line.kind)\n")
            }
        case .live:
            // Byte counts change often: redraw at most ten times a second; state changes at once.
            let now = Date()
            if lastKind[digest] != line.kind || now.timeIntervalSince(lastDraw) >= 0.1 {
                lastKind[digest] = line.kind
                lastDraw = now
                redraw()
            }
        case .quiet:
            break
        }
    }

    /// Draws the final state of every line (live mode).
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if mode == .live { redraw() }
    }

    private func redraw() {
        var out = drawnLines > 0 ? "\u{1B}[\(drawnLines)A" : ""
        for digest in order {
            out += "\u{1B}[2K\r\(digest.shortID): \(text[digest] ?? "")\n"
        }
        drawnLines = order.count
        write(out)
    }

    /// The line for a state (nil: not shown) and its kind (the text without byte counts).
    static func describe(_ state: TransferState, pulling: Bool) -> (kind: String, text: String)? {
        switch state {
        case .waiting: return ("Waiting", "Waiting")
        case .preparing: return ("Preparing", "Preparing")
        case .pushing(let done, let total): return ("Pushing", "Pushing " + bar(done, total))
        case .pushed: return ("Pushed", "Pushed")
        case .alreadyExists:
            let text = pulling ? "Already exists" : "Layer already exists"
            return (text, text)
        case .mounted(let from): return ("Mounted from \(from)", "Mounted from \(from)")
        case .downloading(let done, let total): return ("Downloading", "Downloading " + bar(done, total))
        case .downloaded: return ("Download complete", "Download complete")
        case .remote: return nil
        }
    }

    /// Docker's progress bar: `[=====>      ]  12.3MB/45.6MB`, 50 columns wide.
    static func bar(_ done: Int64, _ total: Int64) -> String {
        guard total > 0 else { return formatSize(done) }
        let width = 50
        let filled = Int(Double(width) * Double(min(done, total)) / Double(total))
        var bar = String(repeating: "=", count: filled)
        if filled < width { bar += ">" + String(repeating: " ", count: width - filled - 1) }
        return "[\(bar)]  \(formatSize(done))/\(formatSize(total))"
    }
}
