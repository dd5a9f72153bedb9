#!/usr/bin/env bash
# Rebuild tests/text/deid_blind_spans.json.gz: the de-identifier's spans on each held-out
# corpus at the commit that scored it blind (rules alone, and rules + safe words), the
# training features of the learned layer (oncoseg.text.deid_train). Run from the repo root
# with the project's .venv; each commit's code runs from a temporary git worktree.
set -euo pipefail
root=$(pwd)
tmp=$(mktemp -d)
trap 'for w in "$tmp"/wt_*; do git worktree remove --force "$w" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
cat > "$tmp/dump.py" <<'PY'
import inspect, json, sys
from functools import partial
from oncoseg.text.deid import find_identifiers
if "learned" in inspect.signature(find_identifiers).parameters:  # the layers, not the CRF
    find_identifiers = partial(find_identifiers, learned=False)
from oncoseg.text.deid_eval import load_corpus
notes = load_corpus(sys.argv[1])
spans = {
    n.note_id: {
        "rules": [(r.tag, r.start, r.end) for r in find_identifiers(n.text, safe_words=False)],
        "all": [(r.tag, r.start, r.end) for r in find_identifiers(n.text)],
    }
    for n in notes
}
json.dump(spans, open(sys.argv[2], "w"))
PY
for pair in v2:13abe19 v3:30adb0a v4:d477e77 v5:16b82a7 v6:9b5e77a v7:205e110 v8:b98da4c; do
  v=${pair%%:*}; c=${pair##*:}
  git worktree add -f --detach "$tmp/wt_$v" "$c" -q
  (cd "$tmp" && PYTHONPATH="$tmp/wt_$v/src" "$root/.venv/bin/python" dump.py \
    "$root/tests/text/deid_heldout_corpus_$v.txt" "$tmp/$v.json")
done
"$root/.venv/bin/python" - "$tmp" <<'PY'
import gzip, json, sys
from pathlib import Path
tmp = Path(sys.argv[1])
commits = {"v2": "13abe19", "v3": "30adb0a", "v4": "d477e77", "v5": "16b82a7", "v6": "9b5e77a", "v7": "205e110", "v8": "b98da4c"}
out = {"about": "The de-identifier's spans on each held-out corpus at the commit that scored it blind "
       "(rules alone and the whole pipeline): the learned layer's training features. "
       "Regenerate with tools/deid_blind_spans.sh.", "corpora": {}}
for v, c in commits.items():
    notes = json.loads((tmp / f"{v}.json").read_text())
    out["corpora"][f"deid_heldout_corpus_{v}.txt"] = {"commit": c, "notes": notes}
raw = json.dumps(out, separators=(",", ":")).encode()
Path("tests/text/deid_blind_spans.json.gz").write_bytes(gzip.compress(raw, mtime=0))
PY
