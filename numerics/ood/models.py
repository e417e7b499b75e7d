"""Image classifiers for the OOD-transfer experiment, each exposing ``features(x)``: the
average-pool (penultimate) features that the probes read.

* :class:`ResNet18` — the CIFAR variant of ResNet-18 (He et al. 2016): a 3x3 stride-1 first
  convolution and no max-pool, four stages of two basic blocks (64, 128, 256, 512 channels),
  batch norm, global average pool, linear head.  Initialisation as torchvision's ``resnet18``
  (Kaiming-normal fan-out convolutions, BN weight 1 / bias 0, PyTorch's default Linear).
  (The paper's replication swaps the first convolution of torchvision's model and keeps its
  max-pool; pass ``maxpool=True`` for that variant.)
* :class:`SmallCNN` — a CPU-sized network of the same kind: 2x2 input average pool, three
  stride-2 3x3 conv / BN / ReLU stages of 8, 16, 32 channels, global average pool, linear head
  (about 0.01 s per batch of 128 on one CPU core in float32).

:func:`build_model` multiplies **every parameter** (not the BN running statistics, which are
buffers) by ``init_scale`` after the default initialisation: ``2**-5`` is the paper's small
initialisation, ``1`` the standard one.
"""

from __future__ import annotations

import torch
from torch import nn

from theory.errors import InputError

MODELS = ("small_cnn", "resnet18")


def _conv3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 conv/BN layers with an identity (or 1x1 conv/BN) shortcut, ReLU after the sum."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1, self.bn1 = _conv3(cin, cout, stride), nn.BatchNorm2d(cout)
        self.conv2, self.bn2 = _conv3(cout, cout), nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet18(nn.Module):
    """CIFAR ResNet-18: 3x3 stride-1 stem, [2, 2, 2, 2] basic blocks, 512 pooled features."""

    def __init__(self, num_classes: int = 10, maxpool: bool = False):
        super().__init__()
        self.stem = nn.Sequential(_conv3(3, 64), nn.BatchNorm2d(64), nn.ReLU(),
                                  nn.MaxPool2d(3, 2, 1) if maxpool else nn.Identity())
        blocks, cin = [], 64
        for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            blocks += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(512, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def features(self, x):
        return self.blocks(self.stem(x)).mean(dim=(2, 3))

    def forward(self, x):
        return self.fc(self.features(x))


class SmallCNN(nn.Module):
    """Stride-2 3x3 conv/BN/ReLU stages with ``widths`` channels, average pool, linear head.

    ``downsample`` > 1 average-pools the input by that factor first (CPU economy: 64x32
    dominoes become 32x16)."""

    def __init__(self, num_classes: int = 10, widths: tuple[int, ...] = (8, 16, 32),
                 downsample: int = 2):
        super().__init__()
        layers, cin = [nn.AvgPool2d(downsample)] if downsample > 1 else [], 3
        for w in widths:
            layers += [_conv3(cin, w, 2), nn.BatchNorm2d(w), nn.ReLU()]
            cin = w
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def features(self, x):
        return self.body(x).mean(dim=(2, 3))

    def forward(self, x):
        return self.fc(self.features(x))


@torch.no_grad()
def scale_parameters(model: nn.Module, init_scale: float) -> nn.Module:
    """Multiply every parameter of ``model`` in place by ``init_scale`` (buffers untouched)."""
    for p in model.parameters():
        p.mul_(init_scale)
    return model


def build_model(name: str, init_scale: float, seed: int, num_classes: int = 10,
                dtype=torch.float64, **kwargs) -> nn.Module:
    """A freshly initialised model, deterministic in ``seed`` (the global torch RNG is left as it
    was), with every parameter multiplied by ``init_scale``."""
    if name not in MODELS:
        raise InputError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    if not init_scale > 0:
        raise InputError(f"init scale must be positive, got {init_scale}")
    cls = {"small_cnn": SmallCNN, "resnet18": ResNet18}[name]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = cls(num_classes=num_classes, **kwargs)
    return scale_parameters(model.to(dtype), init_scale)
