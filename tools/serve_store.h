/* The store of ensi serve under its data directory (see serve_store.c for the layout), and the
 * state the three parts of the server share: the job table and the registered-session count,
 * guarded by one lock. Internal to tools/serve_*.c. */
#ifndef ENSI_TOOLS_SERVE_STORE_H
#define ENSI_TOOLS_SERVE_STORE_H

#include <pthread.h>
#include <stdbool.h>

#include "serve.h"

enum { ID_CHARS = 32 };

typedef enum { JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED } job_state;

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

const char *store_state_name(job_state state);
/* A fresh id: 32 lowercase hex digits of 128 random bits. */
void store_new_id(char out[ID_CHARS + 1]);
/* Exactly 32 lowercase hex digits: nothing else ever reaches a path. */
bool store_valid_id(const char *id);
/* dir/<id><suffix> */
void store_path(char *out, size_t size, const char *dir, const char *id, const char *suffix);
bool store_exists(const char *path);
double store_wall_now(void);

/* The job table (call with the lock held). */
job *store_find_job(serve_jobs *js, const char *id);
job *store_add_job(serve_jobs *js);
int store_pending(const serve_jobs *js);
/* Writes a job's state file (a running job is written as queued: a restart re-runs it). */
void store_save_state(const serve_jobs *js, const job *j);

/* Creates the directories, reads the jobs and the session count back, empties uploads. */
ensi_status store_open(serve_jobs *js);

#endif
