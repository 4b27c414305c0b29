#ifndef NODEAUDIT_CAUDIT_SHIM_H
#define NODEAUDIT_CAUDIT_SHIM_H
// libaudit's package API (Debian libaudit-dev). nodeaudit reaches it from Swift directly.
#include <libaudit.h>
#include <linux/audit.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

// Rule-building state that libaudit keeps in globals (exported by libaudit.so but not
// declared in its header). auditctl resets them before every rule; so does nodeaudit.
extern int _audit_permadded;
extern int _audit_archadded;
extern int _audit_syscalladded;
extern int _audit_exeadded;
extern int _audit_filterfsadded;
extern unsigned int _audit_elf;

// Access to that state from Swift, which refuses shared mutable globals. Callers
// serialize all rule building (RuleEncoder holds a lock).
static inline void nodeaudit_reset_rule_state(void) {
    _audit_permadded = 0; _audit_archadded = 0; _audit_syscalladded = 0;
    _audit_exeadded = 0; _audit_filterfsadded = 0; _audit_elf = 0;
}
static inline unsigned int nodeaudit_rule_elf(void) { return _audit_elf; }
static inline void nodeaudit_set_rule_elf(unsigned int elf) { _audit_elf = elf; }
static inline void nodeaudit_mark_syscall_added(void) { _audit_syscalladded = 1; }
static inline void nodeaudit_mark_perm_added(void) { _audit_permadded = 1; }
static inline void nodeaudit_mark_exe_added(void) { _audit_exeadded = 1; }
static inline int nodeaudit_syscall_added(void) { return _audit_syscalladded; }
/// Whether a key may be attached: a watch, syscall, permission, exe or filesystem field came first.
static inline int nodeaudit_key_allowed(void) {
    return _audit_syscalladded || _audit_permadded || _audit_exeadded || _audit_filterfsadded;
}

// libaudit exports these without declaring them in its header.
extern int audit_rule_syscall_data(struct audit_rule_data *rule, int scall);
extern const char *audit_fstype_to_name(int fstype);

// One slot of a batched receive: the kernel's struct mmsghdr, which glibc declares only
// under _GNU_SOURCE, and a module header cannot set that.
struct nodeaudit_message {
    struct msghdr header;
    unsigned int length;
};

// recvmmsg(2): up to `count` datagrams in one system call (the audit socket delivers a
// record per datagram, so a read per record would cost a system call per record).
static inline int nodeaudit_receive_messages(int fd, struct nodeaudit_message *messages, unsigned int count, int flags) {
    return (int)syscall(SYS_recvmmsg, fd, messages, count, flags, (void *)0);
}
#endif
