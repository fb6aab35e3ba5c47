/* Sessions and jobs of ensi serve (see serve.h). The store under the data directory:
 *   sessions/<id>.profile, sessions/<id>.bundle   a registered evaluation-key bundle
 *   jobs/<id>.request, jobs/<id>.state            an accepted job and its state (JSON)
 *   jobs/<id>.result                              the response of a finished job
 *   uploads/                                      bodies being received
 * A job is accepted (202) only after its request and state are on disk; a restart re-queues every
 * job whose state is not "done" or "failed", in the order they were accepted. */
#include "serve.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "party.h"
#include "tool_error.h"

enum { ID_CHARS = 32 };

typedef enum { JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED } job_state;
static const char *const state_names[] = {"queued", "running", "done", "failed"};

typedef struct {
  char id[ID_CHARS + 1], session[ID_CHARS + 1];
  job_state state;
  double accepted;         /* wall-clock seconds when accepted (queue order) */
  double started, seconds; /* monotonic start; seconds taken when finished */
  int layer, layers;
  const char *stage;       /* a static string of the forward pass's progress */
  char error[384];
} job;

struct serve_jobs {
  serve_config config;
  char sessions_dir[4096], jobs_dir[4096], uploads_dir[4096];
  pthread_mutex_t lock;
  pthread_cond_t wake;
  pthread_mutex_t register_lock; /* one bundle validated at a time (they are large) */
  job *jobs;
  size_t count, capacity;
  int sessions;
  bool stopping;
  pthread_t *threads;
  int started;
};

serve_reply serve_error(unsigned status, const char *fmt, ...) {
  char message[512];
  va_list args;
  va_start(args, fmt);
  vsnprintf(message, sizeof message, fmt, args);
  va_end(args);
  return (serve_reply){status, json_pack("{s:s}", "error", message)};
}

/* ---- ids and paths ------------------------------------------------------------------------- */

static void new_id(char out[ID_CHARS + 1]) {
  uint8_t bytes[ID_CHARS / 2];
  randombytes_buf(bytes, sizeof bytes);
  sodium_bin2hex(out, ID_CHARS + 1, bytes, sizeof bytes);
}

/* Ids are exactly 32 lowercase hex digits: nothing else ever reaches a path. */
static bool valid_id(const char *id) {
  if (!id || strlen(id) != ID_CHARS)
    return false;
  for (const char *c = id; *c; c++)
    if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
      return false;
  return true;
}

static void path_of(char *out, size_t size, const char *dir, const char *id, const char *suffix) {
  snprintf(out, size, "%s/%s%s", dir, id, suffix);
}

static bool exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
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

/* ---- job states on disk -------------------------------------------------------------------- */

static void save_state(const serve_jobs *js, const job *j) {
  json_t *o = json_pack("{s:s, s:s, s:f, s:f, s:s}", "session", j->session, "state",
                        state_names[j->state == JOB_RUNNING ? JOB_QUEUED : j->state], "accepted",
                        j->accepted, "seconds", j->seconds, "error", j->error);
  char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
  char path[4200];
  path_of(path, sizeof path, js->jobs_dir, j->id, ".state");
  if (!text || ensi_file_write(path, (const uint8_t *)text, strlen(text), 0600) != ENSI_OK)
    fprintf(stderr, "ensi serve: cannot write %s\n", path);
  free(text);
  json_decref(o);
}

static job *find_job(serve_jobs *js, const char *id) {
  for (size_t i = 0; i < js->count; i++)
    if (!strcmp(js->jobs[i].id, id))
      return &js->jobs[i];
  return NULL;
}

static job *add_job(serve_jobs *js) {
  if (js->count == js->capacity) {
    const size_t capacity = js->capacity ? 2 * js->capacity : 64;
    job *grown = realloc(js->jobs, capacity * sizeof *grown);
    if (!grown)
      return NULL;
    js->jobs = grown;
    js->capacity = capacity;
  }
  job *j = &js->jobs[js->count++];
  memset(j, 0, sizeof *j);
  return j;
}

/* One job from its state file at startup. */
static void load_job(serve_jobs *js, const char *id) {
  char path[4200];
  path_of(path, sizeof path, js->jobs_dir, id, ".state");
  json_t *o = json_load_file(path, 0, NULL);
  const char *session = NULL, *state = NULL, *error = "";
  double accepted = 0, seconds = 0;
  if (!o || json_unpack(o, "{s:s, s:s, s:F, s?F, s?s}", "session", &session, "state", &state,
                        "accepted", &accepted, "seconds", &seconds, "error", &error) ||
      !valid_id(session)) {
    fprintf(stderr, "ensi serve: ignoring unreadable job state %s\n", path);
    json_decref(o);
    return;
  }
  job *j = add_job(js);
  if (j) {
    snprintf(j->id, sizeof j->id, "%s", id);
    snprintf(j->session, sizeof j->session, "%s", session);
    snprintf(j->error, sizeof j->error, "%s", error);
    j->accepted = accepted;
    j->seconds = seconds;
    j->state = !strcmp(state, "done") ? JOB_DONE : !strcmp(state, "failed") ? JOB_FAILED : JOB_QUEUED;
    path_of(path, sizeof path, js->jobs_dir, id, ".result");
    if (j->state == JOB_DONE && !exists(path)) {
      j->state = JOB_FAILED;
      snprintf(j->error, sizeof j->error, "the result file was lost");
    }
  }
  json_decref(o);
}

/* Reads the store: jobs, the session count; empties uploads. */
static void scan_store(serve_jobs *js) {
  DIR *d = opendir(js->jobs_dir);
  for (struct dirent *e; d && (e = readdir(d));) {
    const size_t n = strlen(e->d_name);
    if (n == ID_CHARS + 6 && !strcmp(e->d_name + ID_CHARS, ".state")) {
      char id[ID_CHARS + 1];
      memcpy(id, e->d_name, ID_CHARS);
      id[ID_CHARS] = 0;
      if (valid_id(id))
        load_job(js, id);
    }
  }
  if (d)
    closedir(d);
  d = opendir(js->sessions_dir);
  for (struct dirent *e; d && (e = readdir(d));)
    js->sessions += strstr(e->d_name, ".bundle") != NULL;
  if (d)
    closedir(d);
  d = opendir(js->uploads_dir);
  for (struct dirent *e; d && (e = readdir(d));) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", js->uploads_dir, e->d_name);
    if (e->d_name[0] != '.')
      unlink(path);
  }
  if (d)
    closedir(d);
}

static int pending(const serve_jobs *js) {
  int n = 0;
  for (size_t i = 0; i < js->count; i++)
    n += js->jobs[i].state == JOB_QUEUED || js->jobs[i].state == JOB_RUNNING;
  return n;
}

/* ---- workers ------------------------------------------------------------------------------- */

typedef struct {
  serve_jobs *js;
  party p;
  char session[ID_CHARS + 1]; /* the session whose keys p holds ("" if none) */
  char job[ID_CHARS + 1];
  double deadline;
  bool timed_out;
} worker;

static bool stopping(serve_jobs *js) { return __atomic_load_n(&js->stopping, __ATOMIC_ACQUIRE); }

static void on_progress(void *user, int layer, int layers, const char *what) {
  worker *w = user;
  pthread_mutex_lock(&w->js->lock);
  job *j = find_job(w->js, w->job);
  if (j) {
    j->layer = layer;
    j->layers = layers;
    j->stage = what;
  }
  pthread_mutex_unlock(&w->js->lock);
}

static bool should_stop(void *user) {
  worker *w = user;
  w->timed_out = bench_now() > w->deadline;
  return w->timed_out || stopping(w->js);
}

static ensi_status read_file(const char *dir, const char *id, const char *suffix, uint8_t **data,
                             size_t *length) {
  char path[4200];
  path_of(path, sizeof path, dir, id, suffix);
  return ensi_file_read(path, data, length, PARTY_MAX_FILE);
}

/* The session's keys, kept from the previous job when it is the same session. */
static ensi_status load_session(worker *w, const char *session) {
  if (!strcmp(w->session, session))
    return ENSI_OK;
  party_close(&w->p);
  w->session[0] = 0;
  uint8_t *bundle = NULL;
  size_t length = 0;
  ensi_status s = read_file(w->js->sessions_dir, session, ".bundle", &bundle, &length);
  if (s == ENSI_OK)
    s = party_open_server(&w->p, bundle, length, w->js->config.model, true);
  free(bundle);
  if (s == ENSI_OK)
    snprintf(w->session, sizeof w->session, "%s", session);
  return s;
}

static ensi_status run_job(worker *w, const char *session) {
  serve_jobs *js = w->js;
  uint8_t *request = NULL, *response = NULL;
  size_t length = 0, response_length = 0;
  ensi_status s = load_session(w, session);
  if (s == ENSI_OK)
    s = read_file(js->jobs_dir, w->job, ".request", &request, &length);
  ensi_henn_setup hooks = {.layers = js->config.layers, .progress = on_progress,
                           .stop = should_stop, .progress_user = w};
  w->deadline = bench_now() + js->config.job_timeout_s;
  w->timed_out = false;
  if (s == ENSI_OK)
    s = party_evaluate(&w->p, js->config.model, request, length, &hooks, &response,
                       &response_length, NULL);
  free(request);
  char path[4200];
  path_of(path, sizeof path, js->jobs_dir, w->job, ".result");
  if (s == ENSI_OK)
    s = ensi_file_write(path, response, response_length, 0644);
  free(response);
  if (s != ENSI_OK && w->timed_out)
    s = tool_fail(ENSI_ERR_LIMIT, "the job ran past the time limit of %.0f s",
                  js->config.job_timeout_s);
  return s;
}

/* The queued job accepted first. */
static job *next_queued(serve_jobs *js) {
  job *best = NULL;
  for (size_t i = 0; i < js->count; i++)
    if (js->jobs[i].state == JOB_QUEUED && (!best || js->jobs[i].accepted < best->accepted))
      best = &js->jobs[i];
  return best;
}

static void finish_job(worker *w, ensi_status s, double started) {
  serve_jobs *js = w->js;
  job *j = find_job(js, w->job);
  if (!j)
    return;
  if (s != ENSI_OK && stopping(js) && !w->timed_out) { /* shut down: run again after restart */
    j->state = JOB_QUEUED;
    return;
  }
  j->seconds = bench_now() - started;
  j->state = s == ENSI_OK ? JOB_DONE : JOB_FAILED;
  if (s != ENSI_OK)
    snprintf(j->error, sizeof j->error, "%s: %s", ensi_strerror(s), tool_error_detail());
  save_state(js, j);
  fprintf(stderr, "ensi serve: job %s %s after %.1f s%s%s\n", j->id, state_names[j->state],
          j->seconds, s == ENSI_OK ? "" : ": ", s == ENSI_OK ? "" : j->error);
}

static void *worker_main(void *arg) {
  worker *w = arg;
  serve_jobs *js = w->js;
  pthread_mutex_lock(&js->lock);
  for (;;) {
    job *j = NULL;
    while (!stopping(js) && !(j = next_queued(js)))
      pthread_cond_wait(&js->wake, &js->lock);
    if (stopping(js))
      break;
    j->state = JOB_RUNNING;
    j->started = bench_now();
    j->stage = "loading keys";
    snprintf(w->job, sizeof w->job, "%s", j->id);
    char session[ID_CHARS + 1];
    snprintf(session, sizeof session, "%s", j->session);
    const double started = j->started;
    pthread_mutex_unlock(&js->lock);
    const ensi_status s = run_job(w, session);
    pthread_mutex_lock(&js->lock);
    finish_job(w, s, started);
  }
  pthread_mutex_unlock(&js->lock);
  party_close(&w->p);
  free(w);
  return NULL;
}

/* ---- start and stop ------------------------------------------------------------------------ */

static ensi_status make_dir(const char *path) {
  if (mkdir(path, 0700) != 0 && errno != EEXIST)
    return tool_fail(ENSI_ERR_IO, "cannot create %s: %s", path, strerror(errno));
  return ENSI_OK;
}

static ensi_status open_store(serve_jobs *js) {
  const char *d = js->config.data_dir;
  snprintf(js->sessions_dir, sizeof js->sessions_dir, "%s/sessions", d);
  snprintf(js->jobs_dir, sizeof js->jobs_dir, "%s/jobs", d);
  snprintf(js->uploads_dir, sizeof js->uploads_dir, "%s/uploads", d);
  TOOL_TRY(make_dir(d));
  TOOL_TRY(make_dir(js->sessions_dir));
  TOOL_TRY(make_dir(js->jobs_dir));
  TOOL_TRY(make_dir(js->uploads_dir));
  scan_store(js);
  return ENSI_OK;
}

ensi_status serve_jobs_start(serve_jobs **out, const serve_config *config) {
  serve_jobs *js = calloc(1, sizeof *js);
  if (!js || !(js->threads = calloc((size_t)config->workers, sizeof *js->threads))) {
    free(js);
    return ENSI_ERR_NOMEM;
  }
  js->config = *config;
  pthread_mutex_init(&js->lock, NULL);
  pthread_mutex_init(&js->register_lock, NULL);
  pthread_cond_init(&js->wake, NULL);
  ensi_status s = open_store(js);
  for (int i = 0; s == ENSI_OK && i < config->workers; i++) {
    worker *w = calloc(1, sizeof *w);
    if (!w) {
      s = ENSI_ERR_NOMEM;
      break;
    }
    w->js = js;
    if (pthread_create(&js->threads[i], NULL, worker_main, w) != 0) {
      free(w);
      s = tool_fail(ENSI_ERR_INTERNAL, "cannot start a worker thread");
      break;
    }
    js->started++;
  }
  if (s != ENSI_OK) {
    serve_jobs_stop(js);
    return s;
  }
  fprintf(stderr, "ensi serve: %d sessions, %d jobs to run from the store\n", js->sessions,
          pending(js));
  *out = js;
  return ENSI_OK;
}

void serve_jobs_stop(serve_jobs *js) {
  if (!js)
    return;
  pthread_mutex_lock(&js->lock);
  __atomic_store_n(&js->stopping, true, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&js->wake);
  pthread_mutex_unlock(&js->lock);
  for (int i = 0; i < js->started; i++)
    pthread_join(js->threads[i], NULL);
  pthread_mutex_destroy(&js->lock);
  pthread_mutex_destroy(&js->register_lock);
  pthread_cond_destroy(&js->wake);
  free(js->threads);
  free(js->jobs);
  free(js);
}

/* ---- the endpoints' handlers --------------------------------------------------------------- */

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
  new_id(id);
  path_of(path, sizeof path, js->sessions_dir, id, ".profile");
  s = ensi_file_write(path, p.saved_profile, p.saved_profile_length, 0600);
  char bundle_path[4200];
  path_of(bundle_path, sizeof bundle_path, js->sessions_dir, id, ".bundle");
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
  path_of(path, sizeof path, js->sessions_dir, session, ".profile");
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
  new_id(fresh.id);
  snprintf(fresh.session, sizeof fresh.session, "%s", session);
  fresh.accepted = wall_now();
  char path[4200];
  path_of(path, sizeof path, js->jobs_dir, fresh.id, ".request");
  if (rename(upload, path) != 0) {
    unlink(upload);
    return serve_error(500, "cannot store the request: %s", strerror(errno));
  }
  pthread_mutex_lock(&js->lock);
  job *j = add_job(js);
  if (j) {
    *j = fresh;
    save_state(js, j);
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
  if (valid_id(session))
    path_of(path, sizeof path, js->sessions_dir, session, ".profile");
  if (!valid_id(session) || !exists(path)) {
    unlink(upload);
    return serve_error(404, "no session %s", valid_id(session) ? session : "(malformed id)");
  }
  pthread_mutex_lock(&js->lock);
  const bool full = pending(js) >= js->config.max_pending;
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
                        state_names[j->state]);
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
  const job *j = valid_id(id) ? find_job(js, id) : NULL;
  serve_reply r = j ? (serve_reply){200, job_json(j)} : serve_error(404, "no job %s",
                                                                     valid_id(id) ? id : "(malformed id)");
  pthread_mutex_unlock(&js->lock);
  return r;
}

serve_reply serve_job_result(serve_jobs *js, const char *id, char *result_path, size_t size) {
  pthread_mutex_lock(&js->lock);
  const job *j = valid_id(id) ? find_job(js, id) : NULL;
  serve_reply r = {200, NULL};
  if (!j)
    r = serve_error(404, "no job %s", valid_id(id) ? id : "(malformed id)");
  else if (j->state == JOB_FAILED)
    r = serve_error(422, "the job failed: %s", j->error);
  else if (j->state != JOB_DONE)
    r = serve_error(409, "the job is %s; poll its status", state_names[j->state]);
  else
    path_of(result_path, size, js->jobs_dir, id, ".result");
  pthread_mutex_unlock(&js->lock);
  return r;
}

serve_reply serve_health(serve_jobs *js) {
  char model[65];
  sodium_bin2hex(model, sizeof model, js->config.model_id, sizeof js->config.model_id);
  pthread_mutex_lock(&js->lock);
  json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:i}", "status", "ok", "model", model, "sessions",
                        js->sessions, "pending", pending(js), "workers", js->config.workers);
  pthread_mutex_unlock(&js->lock);
  return (serve_reply){200, o};
}
