/* ensi serve: the model operator's side as an HTTP service (see serve.h, docs/PROTOCOL.md).
 * Loads the model once, opens the store under --data (re-queuing the jobs a previous run left),
 * listens, and runs until SIGINT or SIGTERM. */
#include <getopt.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "serve.h"
#include "serve_http.h"
#include "tool_error.h"

static int usage(FILE *out) {
  fprintf(out,
          "usage: ensi serve --model DIR [--listen ADDR:PORT] [--data DIR] [--workers W]\n"
          "         [--max-sessions N] [--max-pending N] [--max-bundle-mib M] [--max-request-mib M]\n"
          "         [--job-timeout SECONDS] [--layers L] [--threads T] [--allow-insecure]\n"
          "  defaults: --listen 127.0.0.1:8080 (port 0: any free port), --data ensi-data,\n"
          "  1 worker, 64 sessions, 16 pending jobs, bundles up to 16384 MiB, requests up to\n"
          "  4096 MiB, 86400 s per job; bundles below 128-bit security only with --allow-insecure\n");
  return out == stdout ? 0 : 2;
}

static bool parse_listen(const char *text, char *address, size_t size, unsigned *port) {
  const char *colon = strrchr(text, ':');
  if (!colon || (size_t)(colon - text) >= size)
    return false;
  memcpy(address, text, (size_t)(colon - text));
  address[colon - text] = 0;
  char *end;
  const unsigned long p = strtoul(colon + 1, &end, 10);
  *port = (unsigned)p;
  return *end == 0 && p <= 65535;
}

typedef struct {
  serve_config config;
  char address[64];
  unsigned port;
  const char *model_dir;
  int threads;
} serve_options;

static int parse(int argc, char **argv, serve_options *o) {
  static const struct option options[] = {
      {"model", required_argument, 0, 'm'},          {"listen", required_argument, 0, 'l'},
      {"data", required_argument, 0, 'd'},           {"workers", required_argument, 0, 'w'},
      {"max-sessions", required_argument, 0, 's'},   {"max-pending", required_argument, 0, 'p'},
      {"max-bundle-mib", required_argument, 0, 'b'}, {"max-request-mib", required_argument, 0, 'r'},
      {"job-timeout", required_argument, 0, 'T'},    {"layers", required_argument, 0, 'L'},
      {"threads", required_argument, 0, 't'},        {"allow-insecure", no_argument, 0, 'a'},
      {"help", no_argument, 0, 'h'},                 {0, 0, 0, 0}};
  serve_config *c = &o->config;
  *c = (serve_config){.data_dir = "ensi-data", .max_bundle_bytes = (size_t)16384 << 20,
                      .max_request_bytes = (size_t)4096 << 20, .max_sessions = 64,
                      .max_pending = 16, .workers = 1, .job_timeout_s = 86400};
  snprintf(o->address, sizeof o->address, "127.0.0.1");
  o->port = 8080;
  o->threads = omp_get_max_threads();
  optind = 1;
  for (int ch; (ch = getopt_long(argc, argv, "", options, NULL)) != -1;) {
    switch (ch) {
    case 'm': o->model_dir = optarg; break;
    case 'l':
      if (!parse_listen(optarg, o->address, sizeof o->address, &o->port))
        return usage(stderr);
      break;
    case 'd': c->data_dir = optarg; break;
    case 'w': c->workers = atoi(optarg); break;
    case 's': c->max_sessions = atoi(optarg); break;
    case 'p': c->max_pending = atoi(optarg); break;
    case 'b': c->max_bundle_bytes = (size_t)atol(optarg) << 20; break;
    case 'r': c->max_request_bytes = (size_t)atol(optarg) << 20; break;
    case 'T': c->job_timeout_s = atof(optarg); break;
    case 'L': c->layers = atoi(optarg); break;
    case 't': o->threads = atoi(optarg); break;
    case 'a': c->allow_insecure = true; break;
    case 'h': return usage(stdout) + 1;
    default: return usage(stderr);
    }
  }
  if (optind != argc || !o->model_dir || c->workers < 1 || c->workers > 64 ||
      c->max_sessions < 1 || c->max_pending < 1 || c->max_bundle_bytes == 0 ||
      c->max_request_bytes == 0 || !(c->job_timeout_s > 0) || c->layers < 0 || o->threads < 1)
    return usage(stderr);
  return 0;
}

static int fail(const char *what, ensi_status s) {
  fprintf(stderr, "ensi serve: %s: %s: %s\n", what, ensi_strerror(s), tool_error_detail());
  return 1;
}

/* Serves until SIGINT or SIGTERM (blocked in every thread, then awaited here). */
static int serve(serve_options *o, sigset_t *signals) {
  ensi_model *model = NULL;
  ensi_status s = ensi_model_load(&model, o->model_dir);
  if (s != ENSI_OK)
    return fail("model", s);
  o->config.model = model;
  serve_jobs *jobs = NULL;
  serve_http *http = NULL;
  s = ensi_model_fingerprint(model, o->config.model_id);
  if (s == ENSI_OK)
    s = serve_jobs_start(&jobs, &o->config);
  if (s == ENSI_OK && serve_http_start(&http, jobs, &o->config, o->address, o->port) != ENSI_OK)
    s = tool_fail(ENSI_ERR_IO, "cannot listen on %s:%u", o->address, o->port);
  int status = s == ENSI_OK ? 0 : fail("start", s);
  if (s == ENSI_OK) {
    printf("ensi serve: listening on http://%s:%u (data in %s)\n", o->address,
           serve_http_port(http), o->config.data_dir);
    fflush(stdout);
    int signal_number;
    sigwait(signals, &signal_number);
    fprintf(stderr, "ensi serve: stopping (signal %d); unfinished jobs run again at the next "
            "start\n", signal_number);
  }
  serve_http_stop(http);
  serve_jobs_stop(jobs);
  ensi_model_free(model);
  return status;
}

int ensi_cmd_serve(int argc, char **argv) {
  serve_options o;
  memset(&o, 0, sizeof o);
  const int parsed = parse(argc, argv, &o);
  if (parsed)
    return parsed == 1 ? 0 : parsed;
  omp_set_num_threads(o.threads);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, NULL);
  signal(SIGPIPE, SIG_IGN);
  return serve(&o, &signals);
}
