/* The store of ensi serve (see serve_store.h) under the data directory:
 *   sessions/<id>.profile, sessions/<id>.bundle   a registered evaluation-key bundle
 *   jobs/<id>.request, jobs/<id>.state            an accepted job and its state (JSON)
 *   jobs/<id>.result                              the response of a finished job
 *   uploads/                                      bodies being received
 * A job is accepted (202) only after its request and state are on disk; at start every job whose
 * state is not "done" or "failed" is queued again, in the order it was accepted. */
#include "serve_store.h"

#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tool_error.h"

static const char *const state_names[] = {"queued", "running", "done", "failed"};

const char *store_state_name(job_state state) { return state_names[state]; }

/* ---- ids and paths ------------------------------------------------------------------------- */

void store_new_id(char out[ID_CHARS + 1]) {
  uint8_t bytes[ID_CHARS / 2];
  randombytes_buf(bytes, sizeof bytes);
  sodium_bin2hex(out, ID_CHARS + 1, bytes, sizeof bytes);
}

bool store_valid_id(const char *id) {
  if (!id || strlen(id) != ID_CHARS)
    return false;
  for (const char *c = id; *c; c++)
    if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
      return false;
  return true;
}

void store_path(char *out, size_t size, const char *dir, const char *id, const char *suffix) {
  snprintf(out, size, "%s/%s%s", dir, id, suffix);
}

bool store_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

double store_wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- job states on disk -------------------------------------------------------------------- */

void store_save_state(const serve_jobs *js, const job *j) {
  json_t *o = json_pack("{s:s, s:s, s:f, s:f, s:s}", "session", j->session, "state",
                        store_state_name(j->state == JOB_RUNNING ? JOB_QUEUED : j->state), "accepted",
                        j->accepted, "seconds", j->seconds, "error", j->error);
  char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
  char path[4200];
  store_path(path, sizeof path, js->jobs_dir, j->id, ".state");
  if (!text || ensi_file_write(path, (const uint8_t *)text, strlen(text), 0600) != ENSI_OK)
    fprintf(stderr, "ensi serve: cannot write %s\n", path);
  free(text);
  json_decref(o);
}

job *store_find_job(serve_jobs *js, const char *id) {
  for (size_t i = 0; i < js->count; i++)
    if (!strcmp(js->jobs[i].id, id))
      return &js->jobs[i];
  return NULL;
}

job *store_add_job(serve_jobs *js) {
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
  store_path(path, sizeof path, js->jobs_dir, id, ".state");
  json_t *o = json_load_file(path, 0, NULL);
  const char *session = NULL, *state = NULL, *error = "";
  double accepted = 0, seconds = 0;
  if (!o || json_unpack(o, "{s:s, s:s, s:F, s?F, s?s}", "session", &session, "state", &state,
                        "accepted", &accepted, "seconds", &seconds, "error", &error) ||
      !store_valid_id(session)) {
    fprintf(stderr, "ensi serve: ignoring unreadable job state %s\n", path);
    json_decref(o);
    return;
  }
  job *j = store_add_job(js);
  if (j) {
    snprintf(j->id, sizeof j->id, "%s", id);
    snprintf(j->session, sizeof j->session, "%s", session);
    snprintf(j->error, sizeof j->error, "%s", error);
    j->accepted = accepted;
    j->seconds = seconds;
    j->state = !strcmp(state, "done") ? JOB_DONE : !strcmp(state, "failed") ? JOB_FAILED : JOB_QUEUED;
    store_path(path, sizeof path, js->jobs_dir, id, ".result");
    if (j->state == JOB_DONE && !store_exists(path)) {
      j->state = JOB_FAILED;
      snprintf(j->error, sizeof j->error, "the result file was lost");
    }
  }
  json_decref(o);
}

/* Reads the store: jobs, the session count; empties uploads. */
static void store_scan(serve_jobs *js) {
  DIR *d = opendir(js->jobs_dir);
  for (struct dirent *e; d && (e = readdir(d));) {
    const size_t n = strlen(e->d_name);
    if (n == ID_CHARS + 6 && !strcmp(e->d_name + ID_CHARS, ".state")) {
      char id[ID_CHARS + 1];
      memcpy(id, e->d_name, ID_CHARS);
      id[ID_CHARS] = 0;
      if (store_valid_id(id))
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

int store_pending(const serve_jobs *js) {
  int n = 0;
  for (size_t i = 0; i < js->count; i++)
    n += js->jobs[i].state == JOB_QUEUED || js->jobs[i].state == JOB_RUNNING;
  return n;
}

/* ---- opening ------------------------------------------------------------------------------ */

static ensi_status make_dir(const char *path) {
  if (mkdir(path, 0700) != 0 && errno != EEXIST)
    return tool_fail(ENSI_ERR_IO, "cannot create %s: %s", path, strerror(errno));
  return ENSI_OK;
}

ensi_status store_open(serve_jobs *js) {
  const char *d = js->config.data_dir;
  snprintf(js->sessions_dir, sizeof js->sessions_dir, "%s/sessions", d);
  snprintf(js->jobs_dir, sizeof js->jobs_dir, "%s/jobs", d);
  snprintf(js->uploads_dir, sizeof js->uploads_dir, "%s/uploads", d);
  TOOL_TRY(make_dir(d));
  TOOL_TRY(make_dir(js->sessions_dir));
  TOOL_TRY(make_dir(js->jobs_dir));
  TOOL_TRY(make_dir(js->uploads_dir));
  store_scan(js);
  return ENSI_OK;
}
