/* The workers of ensi serve: threads that take the queued job accepted first, load its session's
 * keys (kept while the next job uses the same session), evaluate it with progress and a time
 * limit, and file its result and state. Also the start and stop of the whole job side. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "party.h"
#include "serve_store.h"
#include "tool_error.h"

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
  job *j = store_find_job(w->js, w->job);
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
  store_path(path, sizeof path, dir, id, suffix);
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
  store_path(path, sizeof path, js->jobs_dir, w->job, ".result");
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
  job *j = store_find_job(js, w->job);
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
  store_save_state(js, j);
  fprintf(stderr, "ensi serve: job %s %s after %.1f s%s%s\n", j->id, store_state_name(j->state),
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
  ensi_status s = store_open(js);
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
          store_pending(js));
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
