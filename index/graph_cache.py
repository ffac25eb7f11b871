"""ONNX graphs derived from the exported encoder (its int8 copy, the reader's merged graph), cached on disk.

Each is keyed by its source graph's identity, written to a temporary file and renamed into place, so a
crash never leaves a torn graph that a later start would take for a finished one. Each use marks its
entry (`kept`), and entries of the same kind unused for `STALE_DAYS` are removed then: a model, reader or
version change leaves its old graphs (about 100 MB each) behind otherwise.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from index.encoder import ONNX_FILE

INT8_ONNX = "encoder-int8.onnx"
STALE_DAYS = 30
log = logging.getLogger(__name__)


def graph_identity(graph: Path) -> str:
    """A short key for an ONNX file from its size and modification time, not its (90 MB of) bytes: the index
    generations that hard-link or copy (`copy2` keeps the time) one exported graph share its key."""
    stat = graph.stat()
    return hashlib.sha256(f"{stat.st_size}\0{stat.st_mtime_ns}".encode()).hexdigest()[:16]


def int8_graph(directory: Path, cache_dir: Path) -> Path:
    """An int8 copy of `directory`'s encoder graph (a scale per output column: cosine 0.995 median to fp32 on
    questions, 0.97 with one scale per matrix), made once into `cache_dir`; the fp32 graph if it cannot be."""
    graph = directory / ONNX_FILE
    made = quantized(graph, cache_dir / f"encoder-int8-pc-{graph_identity(graph)}" / INT8_ONNX, per_channel=True)
    if made != graph:
        kept(made.parent, "encoder-int8-*")
    return made


def quantized(graph: Path, target: Path, per_channel: bool = False) -> Path:
    """`graph` with its matrices dynamically quantized to int8 (onnxruntime's own tool; `per_channel`: a scale
    per output column), written once to `target`; `graph` itself, with a warning, when that fails (a read-only
    cache, a graph the quantizer cannot handle): the fp32 graph answers the same, only slower."""
    if target.exists():
        return target
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    root.addFilter(_quantizer_chatter)
    try:
        with written(target) as temporary:
            # given the graph loaded, the quantizer writes its shape-inferred copy in a temporary folder of its own,
            # not beside the graph: the index's folder may be read-only
            quantize_dynamic(onnx.load(graph), temporary, weight_type=QuantType.QInt8, per_channel=per_channel)
    except Exception as exc:
        log.warning("cannot write an int8 copy of %s to %s (%s); using the fp32 graph", graph, target, exc)
        return graph
    finally:
        root.removeFilter(_quantizer_chatter)
    return target


def _quantizer_chatter(record: logging.LogRecord) -> bool:
    """False for what onnxruntime's quantizer logs on the root logger (a pre-processing hint, a line for each
    tensor it leaves alone: some 40 lines at a server's first start), True for anything else logged there."""
    return f"onnxruntime{os.sep}quantization" not in record.pathname


@contextmanager
def written(target: Path) -> Iterator[Path]:
    """A temporary path beside `target` to write; on success it is flushed to disk and renamed to `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        with open(temporary, "rb") as f:
            os.fsync(f.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def kept(entry: Path, kind: str, stale_days: float = STALE_DAYS) -> None:
    """Mark the cache directory `entry` as used now, and remove its siblings matching the glob `kind` that were
    last used more than `stale_days` ago. A read-only cache is left as it is; a sibling that cannot be removed is
    logged and left."""
    try:
        os.utime(entry)
    except OSError:
        return
    cutoff = time.time() - stale_days * 86400
    for sibling in entry.parent.glob(kind):
        try:
            if sibling != entry and sibling.is_dir() and sibling.stat().st_mtime < cutoff:
                shutil.rmtree(sibling)
                log.info("removed %s from the model cache (unused for %g days)", sibling, stale_days)
        except FileNotFoundError:
            continue  # another process (a second server worker) removed it first
        except OSError as exc:
            log.warning("cannot remove %s from the model cache (%s)", sibling, exc)
