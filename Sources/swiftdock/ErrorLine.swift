import Foundation
import ImageModel

/// The one line `Error:` prints for a failure: the error's own message and, when the message
/// does not already say it, its innermost cause — `Dockerfile:1: FROM: …: authentication
/// failed (HTTP 401)` rather than only the outermost wrapper's words.
enum ErrorLine {
    static func text(for error: any Error) -> String {
        let message = oneLine(String(describing: error))
        let chain = error.causeChain
        guard chain.count > 1, let root = chain.last else { return message }
        let cause = oneLine(String(describing: root))
        // A wrapper usually repeats its cause's reason (the part after the last ": ");
        // saying it twice helps nobody.
        let reason = cause.components(separatedBy: ": ").last ?? cause
        if cause.isEmpty || message.contains(cause) || message.contains(reason) { return message }
        return message + ": " + cause
    }

    /// The first line (what `fail` has always printed of a multi-line description).
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).first.map(String.init) ?? text
    }
}
