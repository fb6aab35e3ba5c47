#!/usr/bin/env bash
# The model commands end to end: synth is deterministic (same seed, same bytes), generate runs
# every attention variant, and --dump-logits writes the documented layout (docs/FORMATS.md).
set -euo pipefail
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$ENSI_TOOL" model synth --shape tiny --out "$dir/a" >/dev/null
"$ENSI_TOOL" model synth --shape tiny --out "$dir/b" >/dev/null
cmp "$dir/a/model.safetensors" "$dir/b/model.safetensors"
cmp "$dir/a/config.json" "$dir/b/config.json"
"$ENSI_TOOL" generate --model "$dir/a" --prompt "the server evaluates" --tokens 2 | grep -q "^text: "
for attention in softmax sigmoid sigmoid-poly; do
  "$ENSI_TOOL" generate --model "$dir/a" --tokens-in 1,5,9,200 --tokens 3 --attention "$attention" \
    | grep -Eq '^tokens: 1 5 9 200( [0-9]+){3}$'
done
"$ENSI_TOOL" generate --model "$dir/a" --tokens-in 1,5,9 --dump-logits "$dir/logits" >/dev/null
# magic ENSILOGT, u32 tokens = 3, u32 vocab = 512, then 3 x 512 float64
[ "$(head -c 8 "$dir/logits")" = ENSILOGT ]
[ "$(stat -c %s "$dir/logits")" -eq $((16 + 3 * 512 * 8)) ]
[ "$(od -An -tu4 -j8 -N8 "$dir/logits" | tr -s ' ')" = " 3 512" ]
if "$ENSI_TOOL" generate --model "$dir/a" --tokens-in 1,99999 >/dev/null 2>&1; then
  echo "token outside the vocabulary accepted"; exit 1
fi
echo "1 passed, 0 failed"
