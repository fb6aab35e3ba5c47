/* Library version. */
#ifndef ENSI_VERSION_H
#define ENSI_VERSION_H

#define ENSI_VERSION_MAJOR 0
#define ENSI_VERSION_MINOR 1
#define ENSI_VERSION_PATCH 0
#define ENSI_VERSION_STRING "0.1.0"

/* The version of the library actually linked (may differ from the header's). */
const char *ensi_version(void);

#endif
