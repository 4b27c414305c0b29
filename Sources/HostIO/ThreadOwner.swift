#if canImport(Glibc)
import Glibc
#endif

/// The one thread a single-thread object belongs to, checked in debug builds: the first
/// thread that uses the object owns it, and a use from any other stops the process with
/// the object's name. Release builds keep nothing and check nothing.
///
/// A class documented as used by one thread (the renderer, the process tree, the health
/// server's connections) says so in its type through this, rather than in a comment alone.
public struct ThreadOwner: ~Copyable {
    #if DEBUG
    private var owner: pthread_t?
    private let name: StaticString
    #endif

    public init(_ name: StaticString) {
        #if DEBUG
        self.name = name
        #endif
    }

    /// Stops the process when called from another thread than the owner's (debug builds).
    @inline(__always)
    public mutating func check() {
        #if DEBUG
        let current = pthread_self()
        guard let owner else {
            owner = current
            return
        }
        precondition(pthread_equal(owner, current) != 0, "\(name) is used by a second thread")
        #endif
    }
}
