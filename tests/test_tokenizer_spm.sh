#!/usr/bin/env bash
# The tokenizer against the reference SentencePiece encoder: a BPE model is trained here with
# spm_train (byte fallback, identity normalization as in LLaMA) on a generated corpus with
# multi-byte UTF-8, then `ensi tokenize` and spm_encode must give the same ids on ASCII,
# multi-byte and unknown-character text (bytes not seen in training fall back to <0xNN>), and
# decoding must give the text back.
set -euo pipefail
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir/corpus.txt" <<'PY'
import random, sys
random.seed(11)
words = "the quick brown fox jumps over a lazy dog while the server evaluates every layer".split()
multi = ["naïve", "café", "über", "straße", "日本語", "東京", "привет", "mañana", "κόσμος"]
with open(sys.argv[1], "w", encoding="utf-8") as f:
    for _ in range(1500):
        f.write(" ".join(random.choice(words + multi) for _ in range(random.randint(3, 12))) + "\n")
PY
spm_train --input="$dir/corpus.txt" --model_prefix="$dir/tokenizer" --vocab_size=400 \
  --model_type=bpe --byte_fallback=true --character_coverage=0.995 \
  --normalization_rule_name=identity --remove_extra_whitespaces=false >"$dir/train.log" 2>&1
passed=0
failed=0
while IFS= read -r text; do
  ours=$("$ENSI_TOOL" tokenize --model "$dir" --no-bos "$text")
  theirs=$(printf '%s' "$text" | spm_encode --model="$dir/tokenizer.model" --output_format=id)
  back=$("$ENSI_TOOL" tokenize --model "$dir" --decode $ours)
  if [ "$ours" = "$theirs" ] && [ "$back" = "$text" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "mismatch on '$text': ours [$ours] spm [$theirs] decoded '$back'"
  fi
done <<'TEXTS'
the quick brown fox jumps over a lazy dog
café über straße and naïve mañana
日本語 and 東京 in one line
unseen characters Ω≈ç√ and an emoji 🙂
 leading space and  double  spaces
κόσμος привет 日本語
xyzzy plugh qwerty
TEXTS
# BOS is added by default
first=$("$ENSI_TOOL" tokenize --model "$dir" "the dog" | cut -d' ' -f1)
[ "$first" = 1 ] && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "no BOS"; }
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
