/* The HTTP endpoints of ensi serve on libmicrohttpd (docs/PROTOCOL.md):
 *   GET  /v1/health                     the model's fingerprint, sessions, pending jobs
 *   POST /v1/sessions                   body: an evaluation-key bundle -> 201 {"session"}
 *   POST /v1/sessions/{session}/jobs    body: a request -> 202 {"job"}
 *   GET  /v1/jobs/{job}                 state and progress
 *   GET  /v1/jobs/{job}/result          the response (application/octet-stream)
 * Bodies stream to a file under the store's uploads directory as they arrive, never whole in
 * memory; a declared or received length over the endpoint's limit is refused with 413. One thread
 * per connection, so a slow upload or a bundle's validation never blocks the others. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serve.h"
#include "serve_http.h"

typedef enum { ROUTE_NONE, ROUTE_HEALTH, ROUTE_SESSIONS, ROUTE_JOBS, ROUTE_STATUS, ROUTE_RESULT } route;

typedef struct {
  route route;
  char id[80];     /* the session or job named in the path */
  int fd;          /* upload file, -1 when none */
  char path[4400]; /* its name */
  size_t received, limit;
  bool too_large, write_failed;
} exchange;

struct serve_http {
  struct MHD_Daemon *daemon;
  serve_jobs *jobs;
  const serve_config *config;
  unsigned port;
};

/* Copies the path segment after prefix up to the next '/' into id; returns the rest. */
static const char *segment(const char *url, const char *prefix, char *id, size_t size) {
  const size_t n = strlen(prefix);
  if (strncmp(url, prefix, n))
    return NULL;
  const char *end = strchr(url + n, '/');
  const size_t length = end ? (size_t)(end - (url + n)) : strlen(url + n);
  if (length == 0 || length >= size)
    return NULL;
  memcpy(id, url + n, length);
  id[length] = 0;
  return url + n + length;
}

static route route_of(const char *method, const char *url, char *id, size_t size) {
  const bool get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
  const char *rest;
  if (get && !strcmp(url, "/v1/health"))
    return ROUTE_HEALTH;
  if (post && !strcmp(url, "/v1/sessions"))
    return ROUTE_SESSIONS;
  if (post && (rest = segment(url, "/v1/sessions/", id, size)) && !strcmp(rest, "/jobs"))
    return ROUTE_JOBS;
  if (get && (rest = segment(url, "/v1/jobs/", id, size)) && !*rest)
    return ROUTE_STATUS;
  if (get && (rest = segment(url, "/v1/jobs/", id, size)) && !strcmp(rest, "/result"))
    return ROUTE_RESULT;
  return ROUTE_NONE;
}

static enum MHD_Result send_reply(struct MHD_Connection *c, serve_reply r) {
  char *text = r.body ? json_dumps(r.body, JSON_COMPACT) : NULL;
  json_decref(r.body);
  if (!text)
    return MHD_NO;
  const size_t length = strlen(text);
  struct MHD_Response *response =
      MHD_create_response_from_buffer(length, text, MHD_RESPMEM_MUST_FREE);
  if (!response) {
    free(text);
    return MHD_NO;
  }
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  const enum MHD_Result ok = MHD_queue_response(c, r.status, response);
  MHD_destroy_response(response);
  return ok;
}

static enum MHD_Result send_file(struct MHD_Connection *c, const char *path) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    if (fd >= 0)
      close(fd);
    return send_reply(c, serve_error(500, "cannot read the result: %s", strerror(errno)));
  }
  struct MHD_Response *response = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
  if (!response) {
    close(fd);
    return MHD_NO;
  }
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
  const enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, response);
  MHD_destroy_response(response);
  return ok;
}

/* The first call of a request: its route, and an upload file for the bodies. */
static exchange *begin(serve_http *h, struct MHD_Connection *c, const char *method,
                       const char *url, serve_reply *early) {
  exchange *x = calloc(1, sizeof *x);
  if (!x)
    return NULL;
  x->fd = -1;
  x->route = route_of(method, url, x->id, sizeof x->id);
  if (x->route == ROUTE_NONE)
    *early = serve_error(404, "no endpoint %s %s", method, url);
  if (x->route != ROUTE_SESSIONS && x->route != ROUTE_JOBS)
    return x;
  x->limit = x->route == ROUTE_SESSIONS ? h->config->max_bundle_bytes : h->config->max_request_bytes;
  const char *declared = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (declared && strtoull(declared, NULL, 10) > x->limit) {
    *early = serve_error(413, "a body of %s bytes is over this endpoint's limit of %zu", declared,
                         x->limit);
    return x;
  }
  /* mkstemp's template: the name ends in six 'X' that it replaces */
  const int n = snprintf(x->path, sizeof x->path, "%s/upload-", serve_jobs_upload_dir(h->jobs));
  if (n < 0 || (size_t)n + 7 > sizeof x->path) {
    x->path[0] = 0;
    *early = serve_error(500, "the data directory's path is too long");
    return x;
  }
  memset(x->path + n, 'X', 6);
  x->path[n + 6] = 0;
  x->fd = mkstemp(x->path);
  if (x->fd < 0)
    *early = serve_error(500, "cannot store the upload: %s", strerror(errno));
  return x;
}

static void receive(exchange *x, const char *data, size_t size) {
  if (x->too_large || x->write_failed || x->fd < 0)
    return;
  if (size > x->limit - x->received) {
    x->too_large = true;
    return;
  }
  x->received += size;
  for (size_t done = 0; done < size;) {
    const ssize_t n = write(x->fd, data + done, size - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      x->write_failed = true;
      return;
    }
    done += (size_t)n;
  }
}

/* The whole request has arrived. */
static enum MHD_Result finish(serve_http *h, struct MHD_Connection *c, exchange *x) {
  if (x->fd >= 0) {
    const bool synced = fsync(x->fd) == 0;
    close(x->fd);
    x->fd = -1;
    x->write_failed |= !synced;
  }
  if (x->too_large)
    return send_reply(c, serve_error(413, "the body is over this endpoint's limit of %zu bytes",
                                     x->limit));
  if (x->write_failed)
    return send_reply(c, serve_error(507, "cannot store the upload"));
  if ((x->route == ROUTE_SESSIONS || x->route == ROUTE_JOBS) && x->received == 0)
    return send_reply(c, serve_error(400, "empty body"));
  char result[4400];
  serve_reply r;
  switch (x->route) {
  case ROUTE_HEALTH: return send_reply(c, serve_health(h->jobs));
  case ROUTE_SESSIONS: r = serve_register_session(h->jobs, x->path); break;
  case ROUTE_JOBS: r = serve_submit_job(h->jobs, x->id, x->path); break;
  case ROUTE_STATUS: return send_reply(c, serve_job_status(h->jobs, x->id));
  case ROUTE_RESULT:
    r = serve_job_result(h->jobs, x->id, result, sizeof result);
    return r.status == 200 && !r.body ? send_file(c, result) : send_reply(c, r);
  default: return send_reply(c, serve_error(404, "no such endpoint"));
  }
  x->path[0] = 0; /* the handler took the file */
  return send_reply(c, r);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **state) {
  serve_http *h = cls;
  (void)version;
  if (!*state) {
    serve_reply early = {0, NULL};
    exchange *x = begin(h, c, method, url, &early);
    if (!x)
      return MHD_NO;
    *state = x;
    return early.status ? send_reply(c, early) : MHD_YES;
  }
  exchange *x = *state;
  if (*upload_data_size) {
    receive(x, upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  return finish(h, c, x);
}

/* After every request, answered or broken off: drops an upload no handler took. */
static void completed(void *cls, struct MHD_Connection *c, void **state,
                      enum MHD_RequestTerminationCode code) {
  (void)cls, (void)c, (void)code;
  exchange *x = *state;
  if (!x)
    return;
  if (x->fd >= 0)
    close(x->fd);
  if (x->path[0])
    unlink(x->path);
  free(x);
  *state = NULL;
}

ensi_status serve_http_start(serve_http **out, serve_jobs *jobs, const serve_config *config,
                             const char *address, unsigned port) {
  serve_http *h = calloc(1, sizeof *h);
  if (!h)
    return ENSI_ERR_NOMEM;
  h->jobs = jobs;
  h->config = config;
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, address, &addr.sin_addr) != 1) {
    free(h);
    return ENSI_ERR_ARG;
  }
  h->daemon = MHD_start_daemon(
      MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0,
      NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned)SERVE_MAX_CONNECTIONS,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SERVE_IDLE_TIMEOUT_S,
      MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
  if (!h->daemon) {
    free(h);
    return ENSI_ERR_IO;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
  h->port = info ? info->port : port;
  *out = h;
  return ENSI_OK;
}

unsigned serve_http_port(const serve_http *h) { return h->port; }

void serve_http_stop(serve_http *h) {
  if (!h)
    return;
  MHD_stop_daemon(h->daemon);
  free(h);
}
