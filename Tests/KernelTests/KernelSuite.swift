import Testing
import TestSupport

/// Every test that touches the kernel's audit state lives under this suite, which runs
/// its members one at a time; each takes a snapshot first and restores it after.
@Suite("Real kernel (root)", .serialized, .enabled(if: KernelAudit.isAvailable,
    "needs root, kernel audit, and an audit configuration not locked until reboot (auditctl -s: enabled 2); Scripts/test-kernel-vm runs these tests in a VM"))
enum KernelSuite {}
