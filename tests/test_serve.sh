#!/usr/bin/env bash
# The protocol end to end on the tiny model at the test-layer preset (1 layer, prompts of up to
# 4 tokens), each step its own process:
#   keygen / encrypt / eval / decrypt with files, and ensi run in one process (column and packed
#   layouts; auto picks columns for this narrow model): same next token;
#   ensi serve + ensi query (through a recording proxy): the same last line as ensi decrypt, and
#   the secret key is nowhere in the bytes the client sent;
#   broken clients against the running server (truncated and oversized bodies, bad ids, garbage
#   and tampered requests, requests and bundles made for other keys or another model), two
#   clients at once, and a server killed in the middle of a job: every case gets its error or the
#   right answer, the server keeps serving, the accepted job is not lost.
set -euo pipefail
E="$ENSI_TOOL"
dir=$(mktemp -d)
server_pid="" proxy_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null || true
  [ -n "$proxy_pid" ] && kill -9 "$proxy_pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$dir/serve.err" ] && tail -20 "$dir/serve.err"; exit 1; }
prompt="The fox"

"$E" model synth --shape tiny --out "$dir/model" >/dev/null
"$E" keygen --preset test-layer --model "$dir/model" --out "$dir/keys" --max-tokens 4 >/dev/null 2>&1
[ "$(stat -c %a "$dir/keys/secret.key")" = 600 ] || fail "secret key mode"

# ---- files, and the single-process run -----------------------------------------------------
"$E" encrypt --keys "$dir/keys" --model "$dir/model" --prompt "$prompt" --out "$dir/req" 2>/dev/null
"$E" eval --model "$dir/model" --evk "$dir/keys/eval.bundle" --in "$dir/req" --out "$dir/resp" \
  --layers 1 --allow-insecure >/dev/null 2>&1
"$E" decrypt --keys "$dir/keys" --model "$dir/model" --in "$dir/resp" > "$dir/decrypted" 2>/dev/null
# --layout auto: packs of 256 columns (N = 2^11, 4 tokens) would be mostly empty for d = 64: columns
auto=$("$E" run --model "$dir/model" --preset test-layer --layers 1 --max-tokens 4 --layout auto \
  --prompt "$prompt" --json 2>/dev/null | tail -1 | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["layout"], r["token_encrypted"])')
[ "${auto% *}" = column ] || fail "ensi run --layout auto chose $auto for the tiny model"
run_token=${auto#* }
[ "$(head -1 "$dir/decrypted")" = "next token: $run_token" ] || fail "decrypt $(head -1 "$dir/decrypted") vs run $run_token"
"$E" decrypt --keys "$dir/keys" --model "$dir/model" --in "$dir/resp" --flood-bits 30 2>/dev/null \
  | cmp -s - "$dir/decrypted" || fail "noise flooding at 2^-30 changed the answer"
"$E" eval --model "$dir/model" --evk "$dir/keys/eval.bundle" --in "$dir/req" --out "$dir/x" \
  --layers 1 >/dev/null 2>&1 && fail "eval accepted an insecure bundle without --allow-insecure"
packed=$("$E" run --model "$dir/model" --preset test-layer --layers 1 --max-tokens 4 --layout packed \
  --prompt "$prompt" --json 2>/dev/null | tail -1 | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["layout"], r["token_encrypted"])')
[ "$packed" = "packed $run_token" ] || fail "ensi run --layout packed: $packed, the column layout $run_token"
"$E" run --model "$dir/model" --preset test-layer --layout diagonal >/dev/null 2>&1 && fail "an unknown layout ran"
echo "files: next token $run_token, as ensi run in both layouts"

# ---- the server ----------------------------------------------------------------------------
start_server() { # $1: port (0: any)
  : > "$dir/serve.out"
  "$E" serve --model "$dir/model" --listen "127.0.0.1:$1" --data "$dir/data" --allow-insecure \
    --layers 1 --max-request-mib 64 --max-bundle-mib 512 --max-pending 4 \
    > "$dir/serve.out" 2>> "$dir/serve.err" &
  server_pid=$!
  for _ in $(seq 300); do grep -q listening "$dir/serve.out" && break; sleep 0.1; done
  url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$dir/serve.out")
  [ -n "$url" ] || fail "server did not start"
}
start_server 0
port=${url##*:}
code() { curl -s -o "$dir/body" -w '%{http_code}' "$@"; }
healthy() { [ "$(code "$url/v1/health")" = 200 ] || fail "server not serving after: $1"; }

python3 "$ENSI_SOURCE_DIR/tests/helpers/record_proxy.py" "$port" "$dir/sent" "$dir/proxy.port" &
proxy_pid=$!
for _ in $(seq 50); do [ -s "$dir/proxy.port" ] && break; sleep 0.1; done
"$E" query --server "http://127.0.0.1:$(cat "$dir/proxy.port")" --keys "$dir/keys" \
  --model "$dir/model" --prompt "$prompt" > "$dir/queried" 2>"$dir/query.err" || { cat "$dir/query.err"; fail "query"; }
cmp -s "$dir/queried" "$dir/decrypted" || fail "query's answer differs from decrypt's"
[ "$(tail -1 "$dir/queried")" = "$(tail -1 "$dir/decrypted")" ] || fail "last lines differ"
python3 - "$dir/keys/secret.key" "$dir/sent" "$dir/keys/eval.bundle" <<'PY' || fail "secret key check"
import sys
secret, sent, bundle = (open(p, "rb").read() for p in sys.argv[1:4])
coefficients = secret[16 + 32:-32]  # after the envelope header and the (public) parameter fingerprint
# every 256-coefficient stretch with at least two nonzero (+1/-1) coefficients: a pattern no
# random or zero-filled stretch of the sent bytes matches by chance
windows = [coefficients[i:i + 256] for i in range(0, len(coefficients) - 256 + 1, 64)]
windows = [w for w in windows if sum(b != 0 for b in w) >= 2]
assert len(windows) > 10, "too few distinctive windows in the secret key"
assert bundle[:4096] in sent and bundle[-4096:] in sent, "the capture missed the bundle"
leaked = sum(w in sent for w in windows)
assert leaked == 0, f"{leaked} windows of the secret key were sent"
print(f"secret key: none of {len(windows)} windows among the {len(sent)} bytes sent")
PY
session=$(python3 -c 'import json,sys; print(list(json.load(open(sys.argv[1])).values())[0])' "$dir/keys/sessions.json")

# ---- broken clients --------------------------------------------------------------------------
python3 - "$port" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + b"x" * 5000)
s.close()
PY
healthy "truncated body"
[ "$(code -X POST -H 'Content-Length: 999999999999' "$url/v1/sessions")" = 413 ] || fail "declared oversize"
head -c $((65 << 20)) /dev/zero > "$dir/big"
[ "$(code --data-binary @"$dir/big" "$url/v1/sessions/$session/jobs")" = 413 ] || fail "oversized request"
healthy "oversized bodies"
for path in /v1/jobs/nope /v1/jobs/0123456789abcdef0123456789abcdef /v1/jobs/../../etc/passwd/result \
            /v1/jobs/0123456789abcdef0123456789abcdef/result /v1/nothing; do
  [ "$(code "$url$path")" = 404 ] || fail "GET $path"
done
[ "$(code --data-binary @"$dir/req" "$url/v1/sessions/0123456789abcdef0123456789abcdef/jobs")" = 404 ] || fail "unknown session"
[ "$(code --data-binary @"$dir/req" "$url/v1/sessions/..%2F..%2Fx/jobs")" = 404 ] || fail "malformed session"
head -c 100000 /dev/urandom > "$dir/garbage"
[ "$(code --data-binary @"$dir/garbage" "$url/v1/sessions/$session/jobs")" = 400 ] || fail "garbage request"
[ "$(code --data-binary @"$dir/garbage" "$url/v1/sessions")" = 400 ] || fail "garbage bundle"
cp "$dir/req" "$dir/tampered" # one byte in the middle inverted (setting it to a constant left the
python3 -c 'import sys; d = bytearray(open(sys.argv[1], "rb").read()); d[len(d) // 2] ^= 0xff
open(sys.argv[1], "wb").write(d)' "$dir/tampered" # request unchanged once in 256 runs)
[ "$(code --data-binary @"$dir/tampered" "$url/v1/sessions/$session/jobs")" = 400 ] || fail "tampered request"
head -c $(( $(stat -c %s "$dir/req") / 2 )) "$dir/req" > "$dir/half"
[ "$(code --data-binary @"$dir/half" "$url/v1/sessions/$session/jobs")" = 400 ] || fail "truncated request"
"$E" keygen --preset test-layer --model "$dir/model" --out "$dir/keys2" --max-tokens 4 >/dev/null 2>&1
"$E" encrypt --keys "$dir/keys2" --model "$dir/model" --prompt "$prompt" --out "$dir/req2" 2>/dev/null
[ "$(code --data-binary @"$dir/req2" "$url/v1/sessions/$session/jobs")" = 409 ] || fail "request under other keys"
"$E" keygen --preset test-boot --model "$dir/model" --out "$dir/keys4" --max-tokens 4 >/dev/null 2>&1
"$E" encrypt --keys "$dir/keys4" --model "$dir/model" --prompt "$prompt" --out "$dir/req4" 2>/dev/null
[ "$(code --data-binary @"$dir/req4" "$url/v1/sessions/$session/jobs")" = 409 ] || fail "request under other parameters"
grep -q "other parameters" "$dir/body" || fail "parameter mismatch message: $(cat "$dir/body")"
"$E" model synth --shape tiny --seed 7 --out "$dir/model2" >/dev/null
"$E" keygen --preset test-layer --model "$dir/model2" --out "$dir/keys3" --max-tokens 4 >/dev/null 2>&1
[ "$(code --data-binary @"$dir/keys3/eval.bundle" "$url/v1/sessions")" = 409 ] || fail "bundle for another model"
grep -q "another model\|differs" "$dir/body" || fail "mismatch message: $(cat "$dir/body")"
healthy "garbage and mismatched inputs"
[ -z "$(ls "$dir/data/uploads")" ] || fail "uploads left behind: $(ls "$dir/data/uploads")"
echo "broken clients: every case refused with its status, server still serving"

# ---- two clients at once ---------------------------------------------------------------------
for i in 1 2; do
  "$E" query --server "$url" --keys "$dir/keys" --model "$dir/model" --prompt "$prompt" \
    > "$dir/concurrent$i" 2>/dev/null &
  pids[$i]=$!
done
for i in 1 2; do wait "${pids[$i]}" || fail "concurrent query $i"; cmp -s "$dir/concurrent$i" "$dir/decrypted" || fail "concurrent answer $i"; done
echo "two clients at once: both answers right"

# ---- a restart in the middle of a job -------------------------------------------------------
[ "$(code --data-binary @"$dir/req" "$url/v1/sessions/$session/jobs")" = 202 ] || fail "submit"
job=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["job"])' "$dir/body")
for _ in $(seq 600); do code "$url/v1/jobs/$job" >/dev/null; grep -q '"running"' "$dir/body" && break; sleep 0.05; done
grep -q '"running"' "$dir/body" || fail "job never ran: $(cat "$dir/body")"
kill -9 "$server_pid"; wait "$server_pid" 2>/dev/null || true
start_server "$port"
for _ in $(seq 1200); do code "$url/v1/jobs/$job" >/dev/null; grep -q '"done"\|"failed"' "$dir/body" && break; sleep 0.1; done
grep -q '"done"' "$dir/body" || fail "job after restart: $(cat "$dir/body")"
[ "$(code -o "$dir/resp_restart" "$url/v1/jobs/$job/result")" = 200 ] || fail "result after restart"
curl -s -o "$dir/resp_restart" "$url/v1/jobs/$job/result"
"$E" decrypt --keys "$dir/keys" --model "$dir/model" --in "$dir/resp_restart" > "$dir/restarted" 2>/dev/null
cmp -s "$dir/restarted" "$dir/decrypted" || fail "answer after restart"
healthy "restart"
echo "restart in the middle of a job: the job ran again and its answer is right"
kill -TERM "$server_pid"
wait "$server_pid" || fail "the server exited with status $? on SIGTERM"
server_pid=""
! grep -q "Sanitizer\|runtime error" "$dir/serve.err" || fail "sanitizer report from the server"
echo "all passed"
