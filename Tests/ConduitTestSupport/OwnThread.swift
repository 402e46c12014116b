import Dispatch
import Foundation

/// Runs blocking test work (a client blocked in `send` or `recv`, a synchronous stop)
/// on a thread of its own, inside `group` if one is given.
///
/// Not on `DispatchQueue.global()`: on Linux its pool adds a thread for blocked
/// workers only when a monitor notices them, about once a second, so blocking work
/// queued there waits behind other blocked work (seen: a test's senders starting 9 s
/// late while another test's senders held the pool).
public func onOwnThread(group: DispatchGroup? = nil, _ body: @escaping @Sendable () -> Void) {
    group?.enter()
    Thread.detachNewThread {
        body()
        group?.leave()
    }
}
