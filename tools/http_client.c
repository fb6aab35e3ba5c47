/* HTTP requests of ensi query on libcurl (see http_client.h). Each returns 0 when a reply came
 * (whatever its status) and -1 when none did. */
#include "http_client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t collect(char *data, size_t size, size_t count, void *user) {
  http_reply *r = user;
  const size_t n = size * count;
  uint8_t *grown = realloc(r->body, r->length + n + 1);
  if (!grown)
    return 0; /* curl stops with a write error */
  memcpy(grown + r->length, data, n);
  r->body = grown;
  r->length += n;
  r->body[r->length] = 0;
  return n;
}

static int perform(CURL *curl, http_reply *r, FILE *upload) {
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const CURLcode code = curl_easy_perform(curl);
  if (code == CURLE_OK)
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
  else
    snprintf(r->error, sizeof r->error, "%s", curl_easy_strerror(code));
  curl_easy_cleanup(curl);
  if (upload)
    fclose(upload);
  return code == CURLE_OK ? 0 : -1;
}

static CURL *start(const char *url, http_reply *r) {
  memset(r, 0, sizeof *r);
  CURL *curl = curl_easy_init();
  if (!curl)
    snprintf(r->error, sizeof r->error, "libcurl failed to start");
  else
    curl_easy_setopt(curl, CURLOPT_URL, url);
  return curl;
}

int http_post_file(const char *url, const char *path, http_reply *r) {
  CURL *curl = start(url, r);
  FILE *f = curl ? fopen(path, "rb") : NULL;
  if (!f) {
    if (curl) {
      snprintf(r->error, sizeof r->error, "cannot open %s", path);
      curl_easy_cleanup(curl);
    }
    return -1;
  }
  fseeko(f, 0, SEEK_END);
  const curl_off_t size = ftello(f);
  rewind(f);
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_READDATA, f);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, size);
  return perform(curl, r, f);
}

int http_post_bytes(const char *url, const uint8_t *data, size_t count, http_reply *r) {
  CURL *curl = start(url, r);
  if (!curl)
    return -1;
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, (const char *)data);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)count);
  return perform(curl, r, NULL);
}

int http_get(const char *url, http_reply *r) {
  CURL *curl = start(url, r);
  return curl ? perform(curl, r, NULL) : -1;
}

void http_reply_free(http_reply *r) {
  free(r->body);
  memset(r, 0, sizeof *r);
}
