#ifndef NODEAUDIT_CLIBYAML_SHIM_H
#define NODEAUDIT_CLIBYAML_SHIM_H
// libyaml (Debian libyaml-dev), for the configuration file.
#include <yaml.h>
#endif
