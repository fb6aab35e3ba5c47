/* The handlers behind ensi serve's endpoints (see serve.h and docs/PROTOCOL.md): registering a
 * bundle after checking it completely, accepting a request after checking it against its
 * session's profile, job status and results, health; every refusal a JSON error with its status. */
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "party.h"
#include "serve_store.h"
#include "tool_error.h"

serve_reply serve_error(unsigned status, const char *fmt, ...) {
  char message[512];
  va_list args;
  va_start(args, fmt);
  vsnprintf(message, sizeof message, fmt, args);
  va_end(args);
  return (serve_reply){status, json_pack("{s:s}", "error", message)};
}

static unsigned status_of(ensi_status s) {
  switch (s) {
  case ENSI_ERR_NOMEM: return 503;
  case ENSI_ERR_MISMATCH: return 409;
  case ENSI_ERR_LIMIT: return 413;
  case ENSI_ERR_IO:
  case ENSI_ERR_INTERNAL: return 500;
  default: return 400;
  }
}

const char *serve_jobs_upload_dir(const serve_jobs *js) { return js->uploads_dir; }

static serve_reply fail_reply(ensi_status s, const char *what) {
  return serve_error(status_of(s), "%s: %s: %s", what, ensi_strerror(s), tool_error_detail());
}

static ensi_status read_path(const char *path, uint8_t **data, size_t *length) {
  return ensi_file_read(path, data, length, PARTY_MAX_FILE);
}

/* Checks a bundle completely (profile, security, model, every key) and files it. */
static serve_reply file_session(serve_jobs *js, const char *upload) {
  uint8_t *bundle = NULL;
  size_t length = 0;
  party p = {0};
  tool_error_clear();
  ensi_status s = read_path(upload, &bundle, &length);
  if (s == ENSI_OK)
    s = party_open_server(&p, bundle, length, js->config.model, js->config.allow_insecure);
  free(bundle);
  if (s != ENSI_OK) {
    party_close(&p);
    unlink(upload);
    return fail_reply(s, "evaluation-key bundle refused");
  }
  char id[ID_CHARS + 1], path[4200];
  store_new_id(id);
  store_path(path, sizeof path, js->sessions_dir, id, ".profile");
  s = ensi_file_write(path, p.saved_profile, p.saved_profile_length, 0600);
  char bundle_path[4200];
  store_path(bundle_path, sizeof bundle_path, js->sessions_dir, id, ".bundle");
  if (s == ENSI_OK && rename(upload, bundle_path) != 0)
    s = tool_fail(ENSI_ERR_IO, "cannot store the bundle: %s", strerror(errno));
  const unsigned max_tokens = p.profile.max_tokens;
  party_close(&p);
  if (s != ENSI_OK) {
    unlink(upload);
    unlink(path);
    return fail_reply(s, "session");
  }
  return (serve_reply){201, json_pack("{s:s, s:i}", "session", id, "max_tokens", max_tokens)};
}

serve_reply serve_register_session(serve_jobs *js, const char *upload) {
  pthread_mutex_lock(&js->lock);
  const bool full = js->sessions >= js->config.max_sessions;
  if (!full)
    js->sessions++; /* reserved; given back when the bundle is refused */
  pthread_mutex_unlock(&js->lock);
  if (full) {
    unlink(upload);
    return serve_error(429, "the server holds its limit of %d sessions", js->config.max_sessions);
  }
  pthread_mutex_lock(&js->register_lock);
  serve_reply r = file_session(js, upload);
  pthread_mutex_unlock(&js->register_lock);
  if (r.status != 201) {
    pthread_mutex_lock(&js->lock);
    js->sessions--;
    pthread_mutex_unlock(&js->lock);
  }
  return r;
}

/* Loads the request against the session's profile: everything but the evaluation itself. */
static ensi_status check_request(serve_jobs *js, const char *session, const char *upload) {
  uint8_t *profile = NULL, *request = NULL;
  size_t profile_length = 0, length = 0;
  party p = {0};
  ensi_enc_matrix *x = NULL;
  char path[4200];
  store_path(path, sizeof path, js->sessions_dir, session, ".profile");
  ensi_status s = read_path(path, &profile, &profile_length);
  if (s == ENSI_OK)
    s = ensi_profile_load(&p.params, &p.profile, profile, profile_length, true);
  if (s == ENSI_OK)
    s = ensi_context_create(&p.ctx, p.params);
  if (s == ENSI_OK)
    s = read_path(upload, &request, &length);
  uint8_t id[32];
  ensi_profile_id(profile, profile_length, id);
  if (s == ENSI_OK)
    s = ensi_message_load(p.ctx, ENSI_MESSAGE_REQUEST, id, &x, request, length);
  if (s == ENSI_OK && x->cols != (size_t)js->config.model->config.hidden)
    s = tool_fail(ENSI_ERR_FORMAT, "the request has %zu columns, the model %d", x->cols,
                  js->config.model->config.hidden);
  if (s == ENSI_OK && x->rows > p.profile.max_tokens)
    s = tool_fail(ENSI_ERR_FORMAT, "the request has %zu tokens, the session serves %u", x->rows,
                  p.profile.max_tokens);
  ensi_enc_matrix_free(x);
  free(request);
  free(profile);
  party_close(&p);
  return s;
}

/* Files an accepted job: its request, then its state; only then is it queued. */
static serve_reply accept_job(serve_jobs *js, const char *session, const char *upload) {
  job fresh = {0};
  store_new_id(fresh.id);
  snprintf(fresh.session, sizeof fresh.session, "%s", session);
  fresh.accepted = store_wall_now();
  char path[4200];
  store_path(path, sizeof path, js->jobs_dir, fresh.id, ".request");
  if (rename(upload, path) != 0) {
    unlink(upload);
    return serve_error(500, "cannot store the request: %s", strerror(errno));
  }
  pthread_mutex_lock(&js->lock);
  job *j = store_add_job(js);
  if (j) {
    *j = fresh;
    store_save_state(js, j);
    pthread_cond_signal(&js->wake);
  }
  pthread_mutex_unlock(&js->lock);
  if (!j) {
    unlink(path);
    return serve_error(503, "out of memory");
  }
  return (serve_reply){202, json_pack("{s:s, s:s}", "job", fresh.id, "state", "queued")};
}

serve_reply serve_submit_job(serve_jobs *js, const char *session, const char *upload) {
  char path[4200];
  if (store_valid_id(session))
    store_path(path, sizeof path, js->sessions_dir, session, ".profile");
  if (!store_valid_id(session) || !store_exists(path)) {
    unlink(upload);
    return serve_error(404, "no session %s", store_valid_id(session) ? session : "(malformed id)");
  }
  pthread_mutex_lock(&js->lock);
  const bool full = store_pending(js) >= js->config.max_pending;
  pthread_mutex_unlock(&js->lock);
  if (full) {
    unlink(upload);
    return serve_error(429, "the server already holds %d pending jobs; retry later",
                       js->config.max_pending);
  }
  tool_error_clear();
  const ensi_status s = check_request(js, session, upload);
  if (s != ENSI_OK) {
    unlink(upload);
    return fail_reply(s, "request refused");
  }
  return accept_job(js, session, upload);
}

static json_t *job_json(const job *j) {
  json_t *o = json_pack("{s:s, s:s, s:s}", "job", j->id, "session", j->session, "state",
                        store_state_name(j->state));
  if (j->state == JOB_RUNNING) {
    json_object_set_new(o, "layer", json_integer(j->layer + 1));
    json_object_set_new(o, "layers", json_integer(j->layers));
    json_object_set_new(o, "stage", json_string(j->stage ? j->stage : ""));
    json_object_set_new(o, "seconds", json_real(bench_now() - j->started));
  } else if (j->state != JOB_QUEUED) {
    json_object_set_new(o, "seconds", json_real(j->seconds));
  }
  if (j->state == JOB_FAILED)
    json_object_set_new(o, "error", json_string(j->error));
  return o;
}

serve_reply serve_job_status(serve_jobs *js, const char *id) {
  pthread_mutex_lock(&js->lock);
  const job *j = store_valid_id(id) ? store_find_job(js, id) : NULL;
  serve_reply r = j ? (serve_reply){200, job_json(j)} : serve_error(404, "no job %s",
                                                                     store_valid_id(id) ? id : "(malformed id)");
  pthread_mutex_unlock(&js->lock);
  return r;
}

serve_reply serve_job_result(serve_jobs *js, const char *id, char *result_path, size_t size) {
  pthread_mutex_lock(&js->lock);
  const job *j = store_valid_id(id) ? store_find_job(js, id) : NULL;
  serve_reply r = {200, NULL};
  if (!j)
    r = serve_error(404, "no job %s", store_valid_id(id) ? id : "(malformed id)");
  else if (j->state == JOB_FAILED)
    r = serve_error(422, "the job failed: %s", j->error);
  else if (j->state != JOB_DONE)
    r = serve_error(409, "the job is %s; poll its status", store_state_name(j->state));
  else
    store_path(result_path, size, js->jobs_dir, id, ".result");
  pthread_mutex_unlock(&js->lock);
  return r;
}

serve_reply serve_health(serve_jobs *js) {
  char model[65];
  sodium_bin2hex(model, sizeof model, js->config.model_id, sizeof js->config.model_id);
  pthread_mutex_lock(&js->lock);
  json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:i}", "status", "ok", "model", model, "sessions",
                        js->sessions, "pending", store_pending(js), "workers", js->config.workers);
  pthread_mutex_unlock(&js->lock);
  return (serve_reply){200, o};
}
