/* A small HTTP client on libcurl for ensi query: POST a file or bytes, GET, with the reply body
 * in memory (replies are JSON or a response of a few MiB; uploads stream from disk). */
#ifndef ENSI_TOOLS_HTTP_CLIENT_H
#define ENSI_TOOLS_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  long status;    /* HTTP status, 0 when no reply came (connection refused, cut) */
  uint8_t *body;  /* the reply's body, NUL-terminated (free()) */
  size_t length;
  char error[256]; /* why no reply came */
} http_reply;

/* POST the file at path (streamed) or count bytes of data. */
int http_post_file(const char *url, const char *path, http_reply *reply);
int http_post_bytes(const char *url, const uint8_t *data, size_t count, http_reply *reply);
int http_get(const char *url, http_reply *reply);
void http_reply_free(http_reply *reply);

#endif
