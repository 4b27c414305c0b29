import Testing
import TestSupport

/// Every test that touches the kernel's audit state lives under this suite, which runs
/// its members one at a time; each takes a snapshot first and restores it after.
@Suite("Real kernel (root)", .serialized, .enabled(if: KernelAudit.isAvailable,
    "needs root, kernel audit, and an audit configuration not locked until reboot (auditctl -s: enabled 2); Scripts/test-kernel-vm runs these tests in a VM"))
enum KernelSuite {}

/// When nodeaudit reads what a kernel test does: as it happens, or only once it is over
/// (`LiveRun.reading(late:)`), when every process the test started is gone, as on a node
/// whose collector is behind.
enum Reading: String, CaseIterable, CustomTestStringConvertible {
    case asItHappens = "read as it happens"
    case late = "read once it is over (nodeaudit stopped meanwhile)"
    var testDescription: String { rawValue }
    var isLate: Bool { self == .late }
}
