/* The linked library's version string. */
#include <ensi/version.h>

const char *ensi_version(void) { return ENSI_VERSION_STRING; }
