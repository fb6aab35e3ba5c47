/* ensi query: the client's side against an ensi serve, in one command. Encrypts the prompt with
 * the key directory's keys, registers the evaluation-key bundle once per server (the session id
 * is kept in KEYDIR/sessions.json), submits the request, follows the job with a progress display
 * (waiting out a server restart), fetches the response and decrypts it. Its last line is the
 * same as ensi decrypt's: the generated text. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "commands.h"
#include "http_client.h"
#include "party.h"
#include "tool_error.h"

typedef struct {
  const char *server, *keys, *model, *prompt;
  double wait_s; /* how long to wait for an unreachable server */
  int flood_bits; /* noise flooding at decryption (0: off) */
} query_options;

static int usage(FILE *out) {
  fprintf(out, "usage: ensi query --server URL --keys KEYDIR --model DIR --prompt TEXT "
               "[--wait SECONDS] [--flood-bits B]\n"
               "  --wait: how long to keep polling a server that stopped answering (default 600)\n");
  return out == stdout ? 0 : 2;
}

static int complain(const char *what, const http_reply *r) {
  json_t *o = r->status ? json_loads((const char *)r->body, 0, NULL) : NULL;
  const char *error = json_string_value(json_object_get(o, "error"));
  if (r->status)
    fprintf(stderr, "ensi query: %s: HTTP %ld: %s\n", what, r->status, error ? error : "(no detail)");
  else
    fprintf(stderr, "ensi query: %s: %s\n", what, r->error);
  json_decref(o);
  return 1;
}

/* The string field of a JSON reply (copied into out). */
static bool reply_field(const http_reply *r, const char *field, char *out, size_t size) {
  json_t *o = json_loads((const char *)r->body, 0, NULL);
  const char *v = json_string_value(json_object_get(o, field));
  const bool ok = v && strlen(v) < size;
  if (ok)
    snprintf(out, size, "%s", v);
  json_decref(o);
  return ok;
}

/* ---- the session id kept per server -------------------------------------------------------- */

static void sessions_path(const query_options *o, char *path, size_t size) {
  snprintf(path, size, "%s/sessions.json", o->keys);
}

static bool known_session(const query_options *o, char *id, size_t size) {
  char path[4200];
  sessions_path(o, path, sizeof path);
  json_t *all = json_load_file(path, 0, NULL);
  const char *v = json_string_value(json_object_get(all, o->server));
  const bool ok = v && strlen(v) < size;
  if (ok)
    snprintf(id, size, "%s", v);
  json_decref(all);
  return ok;
}

static void remember_session(const query_options *o, const char *id) {
  char path[4200];
  sessions_path(o, path, sizeof path);
  json_t *all = json_load_file(path, 0, NULL);
  if (!json_is_object(all)) {
    json_decref(all);
    all = json_object();
  }
  json_object_set_new(all, o->server, json_string(id));
  if (json_dump_file(all, path, JSON_INDENT(2)) != 0)
    fprintf(stderr, "ensi query: note: cannot write %s\n", path);
  json_decref(all);
}

static int register_bundle(const query_options *o, char *id, size_t size) {
  char url[4200], path[4200];
  snprintf(url, sizeof url, "%s/v1/sessions", o->server);
  snprintf(path, sizeof path, "%s/%s", o->keys, PARTY_BUNDLE_FILE);
  fprintf(stderr, "ensi query: registering the evaluation keys with %s...\n", o->server);
  http_reply r;
  int status = 0;
  if (http_post_file(url, path, &r) != 0 || r.status != 201)
    status = complain("registering the evaluation keys", &r);
  else if (!reply_field(&r, "session", id, size))
    status = complain("registering the evaluation keys (no session id)", &r);
  else
    remember_session(o, id);
  http_reply_free(&r);
  return status;
}

/* Submits the request; registers the bundle first when the server does not know the session. */
static int submit(const query_options *o, const uint8_t *request, size_t length, char *job,
                  size_t size) {
  char session[80], url[4200];
  if (!known_session(o, session, sizeof session) && register_bundle(o, session, sizeof session))
    return 1;
  for (int attempt = 0;; attempt++) {
    snprintf(url, sizeof url, "%s/v1/sessions/%s/jobs", o->server, session);
    http_reply r;
    const int sent = http_post_bytes(url, request, length, &r);
    if (sent == 0 && r.status == 404 && attempt == 0) { /* the server forgot the session */
      http_reply_free(&r);
      if (register_bundle(o, session, sizeof session))
        return 1;
      continue;
    }
    int status = 0;
    if (sent != 0 || r.status != 202 || !reply_field(&r, "job", job, size))
      status = complain("submitting the request", &r);
    http_reply_free(&r);
    return status;
  }
}

/* ---- following the job --------------------------------------------------------------------- */

/* Prints the job's state and progress when they changed since *last (a short summary). */
static void show(const http_reply *r, double start, char *last, size_t size) {
  json_t *o = json_loads((const char *)r->body, 0, NULL);
  const char *state = json_string_value(json_object_get(o, "state"));
  const char *stage = json_string_value(json_object_get(o, "stage"));
  char line[160];
  if (json_object_get(o, "layer"))
    snprintf(line, sizeof line, "%s: layer %lld/%lld, %s", state ? state : "?",
             (long long)json_integer_value(json_object_get(o, "layer")),
             (long long)json_integer_value(json_object_get(o, "layers")), stage ? stage : "");
  else
    snprintf(line, sizeof line, "%s", state ? state : "?");
  json_decref(o);
  if (!strcmp(line, last))
    return;
  snprintf(last, size, "%s", line);
  fprintf(stderr, isatty(fileno(stderr)) ? "\r  [%6.1f s] %-50s" : "  [%6.1f s] %s\n",
          bench_now() - start, line);
}

static void pause_briefly(void) {
  const struct timespec t = {0, 250 * 1000 * 1000};
  nanosleep(&t, NULL);
}

/* Polls until the job is done; 0 then, 1 on failure. */
static int wait_for(const query_options *o, const char *job) {
  char url[4200], state[32] = "", shown[160] = "";
  snprintf(url, sizeof url, "%s/v1/jobs/%s", o->server, job);
  const double start = bench_now();
  double unreachable_since = 0;
  for (;;) {
    http_reply r;
    if (http_get(url, &r) != 0) { /* the server may be restarting: the job is on its disk */
      if (!unreachable_since)
        unreachable_since = bench_now();
      if (bench_now() - unreachable_since > o->wait_s)
        return complain("following the job", &r);
      http_reply_free(&r);
      sleep(1);
      continue;
    }
    unreachable_since = 0;
    if (r.status != 200 || !reply_field(&r, "state", state, sizeof state)) {
      const int status = complain("following the job", &r);
      http_reply_free(&r);
      return status;
    }
    show(&r, start, shown, sizeof shown);
    const bool failed = !strcmp(state, "failed");
    if (failed) {
      fprintf(stderr, "\n");
      complain("the job", &r);
    }
    http_reply_free(&r);
    if (failed)
      return 1;
    if (!strcmp(state, "done"))
      break;
    pause_briefly();
  }
  if (isatty(fileno(stderr)))
    fprintf(stderr, "\n");
  return 0;
}

static int fetch_and_decrypt(const query_options *o, const party *p, const ensi_model *m,
                             const char *job) {
  char url[4200];
  snprintf(url, sizeof url, "%s/v1/jobs/%s/result", o->server, job);
  http_reply r;
  if (http_get(url, &r) != 0 || r.status != 200) {
    const int status = complain("fetching the result", &r);
    http_reply_free(&r);
    return status;
  }
  int32_t token = -1;
  char *text = NULL;
  const ensi_status s =
      party_decrypt(p, m, o->model, r.body, r.length, o->flood_bits, &token, &text);
  http_reply_free(&r);
  if (s != ENSI_OK) {
    fprintf(stderr, "ensi query: decrypt: %s: %s\n", ensi_strerror(s), tool_error_detail());
    return 1;
  }
  printf("next token: %d\n%s\n", token, text);
  free(text);
  return 0;
}

static int query(const query_options *o, const ensi_model *m) {
  party p;
  uint8_t *request = NULL;
  size_t length = 0;
  char job[80];
  ensi_status s = party_open_client(&p, o->keys, m);
  if (s == ENSI_OK)
    s = party_encrypt(&p, m, o->model, o->prompt, &request, &length);
  int status = 0;
  if (s != ENSI_OK) {
    fprintf(stderr, "ensi query: encrypt: %s: %s\n", ensi_strerror(s), tool_error_detail());
    status = 1;
  }
  if (status == 0)
    status = submit(o, request, length, job, sizeof job);
  free(request);
  if (status == 0) {
    fprintf(stderr, "ensi query: job %s accepted\n", job);
    status = wait_for(o, job);
  }
  if (status == 0)
    status = fetch_and_decrypt(o, &p, m, job);
  party_close(&p);
  return status;
}

int ensi_cmd_query(int argc, char **argv) {
  query_options o = {.wait_s = 600};
  static const struct option options[] = {
      {"server", required_argument, 0, 's'}, {"keys", required_argument, 0, 'k'},
      {"model", required_argument, 0, 'm'},  {"prompt", required_argument, 0, 'p'},
      {"wait", required_argument, 0, 'w'},   {"flood-bits", required_argument, 0, 'f'},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "", options, NULL)) != -1;) {
    switch (c) {
    case 's': o.server = optarg; break;
    case 'k': o.keys = optarg; break;
    case 'm': o.model = optarg; break;
    case 'p': o.prompt = optarg; break;
    case 'w': o.wait_s = atof(optarg); break;
    case 'f': o.flood_bits = atoi(optarg); break;
    case 'h': return usage(stdout);
    default: return usage(stderr);
    }
  }
  if (optind != argc || !o.server || !o.keys || !o.model || !o.prompt || !(o.wait_s >= 0) ||
      o.flood_bits < 0 || o.flood_bits > 60)
    return usage(stderr);
  ensi_model *m = NULL;
  const ensi_status s = ensi_model_load(&m, o.model);
  if (s != ENSI_OK) {
    fprintf(stderr, "ensi query: model: %s: %s\n", ensi_strerror(s), ensi_error_detail());
    return 1;
  }
  const int status = query(&o, m);
  ensi_model_free(m);
  return status;
}
