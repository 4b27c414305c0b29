#ifndef NODEAUDIT_CAUDIT_SHIM_H
#define NODEAUDIT_CAUDIT_SHIM_H
// libaudit's public API (Debian libaudit-dev). nodeaudit reaches it from Swift directly.
#include <libaudit.h>
#endif
