/* ensi serve: the model operator's HTTP service (docs/PROTOCOL.md). Its parts:
 *   serve_store.c     the on-disk store under --data (so a restart loses no accepted job) and the
 *                     job table;
 *   serve_workers.c   the worker threads that evaluate queued jobs;
 *   serve_handlers.c  what each endpoint does: registration, submission, status, results;
 *   serve_http.c      the HTTP side on libmicrohttpd: uploads streamed to disk with size limits,
 *                     routing, JSON replies;
 *   cmd_serve.c       the command: options, model, start and stop. */
#ifndef ENSI_TOOLS_SERVE_H
#define ENSI_TOOLS_SERVE_H

#include <stdbool.h>
#include <stddef.h>

#include <ensi/ensi.h>
#include <jansson.h>

typedef struct {
  const char *data_dir;
  const ensi_model *model;
  uint8_t model_id[32];
  size_t max_bundle_bytes, max_request_bytes;
  int max_sessions;     /* registered sessions kept */
  int max_pending;      /* jobs queued or running */
  int workers;          /* jobs evaluated at once */
  double job_timeout_s; /* a job running longer fails */
  int layers;           /* layers to run (0: all) */
  bool allow_insecure;  /* accept bundles below 128-bit security */
} serve_config;

typedef struct serve_jobs serve_jobs;

/* An HTTP status and a JSON body ({"error": ...} on failure). */
typedef struct {
  unsigned status;
  json_t *body;
} serve_reply;

serve_reply serve_error(unsigned status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Opens the store (creating it), re-queues every job a previous run accepted and did not finish,
 * and starts the workers. */
ensi_status serve_jobs_start(serve_jobs **out, const serve_config *config);
/* Stops the workers after their current job (which a restart re-runs) and frees everything. */
void serve_jobs_stop(serve_jobs *jobs);

/* The handlers behind the endpoints. Uploaded bodies arrive as files under serve_jobs_upload_dir;
 * a handler takes ownership of the file (moves or removes it). */
const char *serve_jobs_upload_dir(const serve_jobs *jobs);
serve_reply serve_register_session(serve_jobs *jobs, const char *upload);
serve_reply serve_submit_job(serve_jobs *jobs, const char *session, const char *upload);
serve_reply serve_job_status(serve_jobs *jobs, const char *job);
/* On success *result_path names the response file (and the reply has no body). */
serve_reply serve_job_result(serve_jobs *jobs, const char *job, char *result_path, size_t size);
serve_reply serve_health(serve_jobs *jobs);

#endif
