#!/usr/bin/env bash
# Rebuild tests/text/deid_blind_spans.json.gz: the de-identifier's spans on each held-out
# corpus at the commit that scored it blind (rules alone, and rules + safe words), the
# training features of the learned layer (oncoseg.text.deid_train), with each note's SHA-256
# so a later edit of a corpus is caught. Runs from the repository root with its .venv; each
# commit's code runs from a temporary git worktree.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
root=$(pwd)
# corpus : the commit that scored it blind (held-out corpora v2-v14), or whose de-identifier
# first ran on it (training corpora, written blind for training: a-g, whose layers at 8ce0bc8
# are those of 0d1e9f7, before they were added; h-k at 5121b24; l-n at f67395e; o-q at 4b9813d)
blind="heldout_corpus_v2:13abe19 heldout_corpus_v3:30adb0a heldout_corpus_v4:d477e77
heldout_corpus_v5:16b82a7 heldout_corpus_v6:9b5e77a heldout_corpus_v7:205e110
heldout_corpus_v8:b98da4c heldout_corpus_v9:6b50bd5 heldout_corpus_v10:9d17478
heldout_corpus_v11:835bf67 heldout_corpus_v12:e06e209 heldout_corpus_v13:61356de
heldout_corpus_v14:24bc650
train_corpus_a:8ce0bc8 train_corpus_b:8ce0bc8
train_corpus_c:8ce0bc8 train_corpus_d:8ce0bc8 train_corpus_e:8ce0bc8 train_corpus_f:8ce0bc8
train_corpus_g:8ce0bc8 train_corpus_h:5121b24 train_corpus_i:5121b24 train_corpus_j:5121b24
train_corpus_k:5121b24 train_corpus_l:f67395e train_corpus_m:f67395e train_corpus_n:f67395e
train_corpus_o:4b9813d train_corpus_p:4b9813d train_corpus_q:4b9813d"
tmp=$(mktemp -d)
trap 'for w in "$tmp"/wt_*; do git worktree remove --force "$w" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
cat > "$tmp/dump.py" <<'PY'
import hashlib, inspect, json, sys
from functools import partial
from oncoseg.text.deid import find_identifiers
from oncoseg.text.deid_eval import load_corpus
if "learned" in inspect.signature(find_identifiers).parameters:  # the layers, not the CRF
    find_identifiers = partial(find_identifiers, learned=False)
notes = load_corpus(sys.argv[1])
spans = {
    n.note_id: {
        "sha256": hashlib.sha256(n.text.encode()).hexdigest(),
        "rules": [(r.tag, r.start, r.end) for r in find_identifiers(n.text, safe_words=False)],
        "all": [(r.tag, r.start, r.end) for r in find_identifiers(n.text)],
    }
    for n in notes
}
json.dump({"commit": sys.argv[3], "notes": spans}, open(sys.argv[2], "w"))
PY
for pair in $blind; do
  v=${pair%%:*}; c=${pair##*:}
  git worktree add -f --detach "$tmp/wt_$v" "$c" -q
  (cd "$tmp" && PYTHONPATH="$tmp/wt_$v/src" "$root/.venv/bin/python" dump.py \
    "$root/tests/text/deid_$v.txt" "$tmp/$v.json" "$c")
done
"$root/.venv/bin/python" - "$tmp" $blind <<'PY'
import gzip, json, sys
from pathlib import Path
tmp = Path(sys.argv[1])
out = {"about": "The de-identifier's spans on each training corpus at the commit that first ran on it blind "
       "(rules alone and the whole pipeline): the learned layer's training features. "
       "Regenerate with tools/deid_blind_spans.sh.", "corpora": {}}
for pair in sys.argv[2:]:
    v = pair.split(":")[0]
    out["corpora"][f"deid_{v}.txt"] = json.loads((tmp / f"{v}.json").read_text())
raw = json.dumps(out, separators=(",", ":")).encode()
Path("tests/text/deid_blind_spans.json.gz").write_bytes(gzip.compress(raw, mtime=0))
PY
