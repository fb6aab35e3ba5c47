/* The HTTP front of ensi serve (see serve_http.c for the endpoints). */
#ifndef ENSI_TOOLS_SERVE_HTTP_H
#define ENSI_TOOLS_SERVE_HTTP_H

#include "serve.h"

/* Connections served at once, and seconds a connection may stay idle (a client that stops
 * sending its body is cut off after this long). */
#define SERVE_MAX_CONNECTIONS 64
#define SERVE_IDLE_TIMEOUT_S 60

typedef struct serve_http serve_http;

/* Listens on address:port (port 0: any free port). */
ensi_status serve_http_start(serve_http **out, serve_jobs *jobs, const serve_config *config,
                             const char *address, unsigned port);
unsigned serve_http_port(const serve_http *h);
void serve_http_stop(serve_http *h);

#endif
