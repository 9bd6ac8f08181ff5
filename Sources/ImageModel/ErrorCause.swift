/// An error that keeps the error that caused it, so a caller can still ask what happened
/// underneath ("unauthorized" or "not found" under a build's FROM) instead of parsing text.
public protocol CausedError: Error {
    /// The error this one wraps; nil when it is the root cause.
    var underlying: (any Error)? { get }
}

extension Error {
    /// This error followed by each cause beneath it, outermost first.
    public var causeChain: [any Error] {
        var chain: [any Error] = [self]
        // Bounded: a cycle of causes must not hang the error path.
        while chain.count < 32, let caused = chain.last as? CausedError, let next = caused.underlying {
            chain.append(next)
        }
        return chain
    }

    /// The deepest cause (the error itself when it wraps nothing).
    public var innermostCause: any Error { causeChain.last ?? self }

    /// The first error in the chain of the given type (`error.cause(as: RegistryError.self)?.kind`).
    public func cause<T: Error>(as type: T.Type) -> T? {
        causeChain.lazy.compactMap { $0 as? T }.first
    }
}
