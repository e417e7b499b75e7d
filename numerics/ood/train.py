"""One OOD-transfer training run, top to bottom, with checkpoints and exact resume.

The run trains ``cfg.model`` on the correlated training dominoes with the paper's optimiser and
schedule (:mod:`.schedule`), cross-entropy loss and random horizontal flips (the replication's
training transform).  At epoch 0 and every ``cfg.probe_every`` epochs (and at the end) it

1. reads the average-pool features of the OOD fit and score parts (eval mode),
2. rescales them to unit mean square and fits the probes of :mod:`.probe` on both OOD labellings,
3. records held-out (in-distribution) accuracy, mean training loss, the probes and the feature
   scale, and
4. writes ``checkpoint.pt`` (model, optimiser, scheduler, the data-order/flip generator, history)
   and ``metrics.json`` atomically.

All randomness of the loop (batch order, flips) comes from one ``torch.Generator`` seeded with
``cfg.seed`` and saved in the checkpoint, and the model's initialisation is seeded by
``cfg.seed`` too; so on CPU an interrupted run resumed from its checkpoint equals an
uninterrupted one bit for bit.
"""

from __future__ import annotations

import io
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from theory.atomic import atomic_write_bytes, atomic_write_json
from theory.errors import InputError

from .dominoes import DominoData
from .models import build_model
from .probe import MAX_ITER, probe_all
from .schedule import make_optimizer

DTYPES = {"float64": torch.float64, "float32": torch.float32}
EVAL_BATCH = 512


@dataclass
class RunConfig:
    """One run: model, initialisation multiplier, training correlation, seed and schedule."""

    model: str = "small_cnn"
    init_scale: float = 2.0 ** -5
    correlation: float = 1.0
    seed: int = 0
    epochs: int = 32
    probe_every: int = 4
    batch_size: int = 128
    augment: bool = True
    dtype: str = "float64"
    model_kwargs: dict = field(default_factory=dict)
    probe_max_iter: int = MAX_ITER                # lbfgs iteration cap of every probe fit

    def check(self) -> None:
        if min(self.epochs, self.probe_every, self.batch_size, self.probe_max_iter) < 1:
            raise InputError("epochs, probe interval, batch size and probe iterations must be "
                             "positive integers")
        if self.dtype not in DTYPES:
            raise InputError(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")

    def probe_epochs(self) -> list[int]:
        """Epochs at which features are probed: 0, every ``probe_every``, and the last."""
        return sorted(set(range(0, self.epochs + 1, self.probe_every)) | {self.epochs})


def resolve_device(device: str) -> torch.device:
    """``auto`` -> cuda when available, else cpu; ``cuda`` without a GPU is bad input."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InputError("--device cuda requested but no CUDA device is available")
    if device != "cpu" and not device.startswith("cuda"):
        raise InputError(f"device must be auto, cpu or cuda, got {device!r}")
    return torch.device(device)


@torch.no_grad()
def extract_features(model, data: DominoData, images: np.ndarray, device, dtype) -> np.ndarray:
    """Average-pool features (eval mode) of uint8 dominoes, as float64 numpy."""
    model.eval()
    out = [model.features(data.tensor(images[i:i + EVAL_BATCH], dtype).to(device)).cpu()
           for i in range(0, len(images), EVAL_BATCH)]
    return torch.cat(out).double().numpy()


@torch.no_grad()
def accuracy(model, data: DominoData, images, labels, device, dtype) -> float:
    model.eval()
    correct = 0
    for i in range(0, len(images), EVAL_BATCH):
        logits = model(data.tensor(images[i:i + EVAL_BATCH], dtype).to(device))
        correct += int((logits.argmax(1).cpu().numpy() == labels[i:i + EVAL_BATCH]).sum())
    return correct / len(labels)


def measure(model, data: DominoData, device, dtype, probe_max_iter: int = MAX_ITER) -> dict:
    """Held-out accuracy, feature scale and every OOD probe accuracy (see module doc)."""
    fit = extract_features(model, data, data.ood_fit, device, dtype)
    score = extract_features(model, data, data.ood_score, device, dtype)
    rec = probe_all(fit, score, data.ood_labels, probe_max_iter)
    rec["val_acc"] = accuracy(model, data, *data.val, device, dtype)
    return rec


def _save(path: Path, state: dict) -> None:
    buf = io.BytesIO()
    torch.save(state, buf)
    atomic_write_bytes(path, buf.getvalue())


def train_run(cfg: RunConfig, data: DominoData, run_dir: str | Path, device: str = "cpu",
              progress=None, stop_after_epoch: int | None = None) -> list[dict]:
    """Train (or resume) one run in ``run_dir``; returns its history, one record per probe epoch.

    ``progress`` (optional) is called with the number of epochs just completed (for a progress
    bar).  ``stop_after_epoch`` ends the call early after that epoch's checkpoint — the
    interruption used by the resume test.
    """
    cfg.check()
    run_dir = Path(run_dir)
    dev, dtype = resolve_device(device), DTYPES[cfg.dtype]
    ckpt = run_dir / "checkpoint.pt"
    x_all, y_all = data.train
    n = len(y_all)
    steps_per_epoch = math.ceil(n / cfg.batch_size)
    model = build_model(cfg.model, cfg.init_scale, cfg.seed, dtype=dtype,
                        **cfg.model_kwargs).to(dev)
    opt, sched = make_optimizer(model, cfg.batch_size, cfg.epochs * steps_per_epoch)
    gen = torch.Generator().manual_seed(cfg.seed)
    probe_at = set(cfg.probe_epochs())
    if ckpt.exists():
        state = torch.load(ckpt, map_location=dev, weights_only=False)
        if state["config"] != asdict(cfg):
            raise InputError(f"{run_dir} holds a run with a different configuration; "
                             "use another --out or delete it")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        gen.set_state(state["generator"])
        epoch, history = state["epoch"], state["history"]
    else:
        epoch, history = 0, [{"epoch": 0, "train_loss": None,
                              **measure(model, data, dev, dtype, cfg.probe_max_iter)}]
        _checkpoint(ckpt, run_dir, cfg, model, opt, sched, gen, 0, history)
    if progress and epoch:
        progress(epoch)
    y_t = torch.from_numpy(y_all)
    x_t = data.tensor(x_all, dtype)  # normalised once; batches are index views
    while epoch < cfg.epochs:
        model.train()
        perm = torch.randperm(n, generator=gen)
        total = 0.0
        for b in range(steps_per_epoch):
            idx = perm[b * cfg.batch_size:(b + 1) * cfg.batch_size]
            x = x_t[idx]
            if cfg.augment:
                flip = torch.rand(len(idx), generator=gen) < 0.5
                x = torch.where(flip[:, None, None, None], x.flip(-1), x)
            loss = torch.nn.functional.cross_entropy(model(x.to(dev)), y_t[idx].to(dev))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        epoch += 1
        if not math.isfinite(total):
            raise InputError(f"training diverged (non-finite loss) at epoch {epoch}")
        if epoch in probe_at:
            history.append({"epoch": epoch, "train_loss": total / n,
                            **measure(model, data, dev, dtype, cfg.probe_max_iter)})
            _checkpoint(ckpt, run_dir, cfg, model, opt, sched, gen, epoch, history)
        if progress:
            progress(1)
        if stop_after_epoch is not None and epoch >= stop_after_epoch and epoch in probe_at:
            break
    return history


def _checkpoint(ckpt, run_dir, cfg, model, opt, sched, gen, epoch, history) -> None:
    _save(ckpt, {"config": asdict(cfg), "model": model.state_dict(), "optimizer": opt.state_dict(),
                 "scheduler": sched.state_dict(), "generator": gen.get_state(), "epoch": epoch,
                 "history": history})
    atomic_write_json(run_dir / "metrics.json", {"config": asdict(cfg), "history": history})
