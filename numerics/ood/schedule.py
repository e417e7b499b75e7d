"""The paper's optimiser and learning-rate schedule.

SGD with Nesterov momentum 0.9 and weight decay 5e-4; base learning rate ``batch · 2^-10``;
per-batch schedule with linear warm-up over the first 1/8 of all steps and linear decay to zero
after it — the formula of ``transformers.get_linear_schedule_with_warmup`` used by the
replication: factor ``s / W`` for step ``s < W``, then ``max(0, (T − s) / (T − W))``.
"""

from __future__ import annotations

import torch

LR_PER_SAMPLE = 2.0 ** -10
WARMUP_FRACTION = 1 / 8
MOMENTUM = 0.9
WEIGHT_DECAY = 5e-4


def lr_factor(step: int, total_steps: int, warmup_steps: float) -> float:
    """Multiplier of the base learning rate at optimiser step ``step`` (0-based)."""
    if step < warmup_steps:
        return step / warmup_steps
    return max(0.0, (total_steps - step) / max(1.0, total_steps - warmup_steps))


def make_optimizer(model: torch.nn.Module, batch_size: int, total_steps: int):
    """(optimizer, scheduler) with the paper's settings; call ``scheduler.step()`` per batch."""
    opt = torch.optim.SGD(model.parameters(), lr=batch_size * LR_PER_SAMPLE, momentum=MOMENTUM,
                          weight_decay=WEIGHT_DECAY, nesterov=True)
    warm = total_steps * WARMUP_FRACTION
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, total_steps, warm))
    return opt, sched
